// One experiment of the paper's ablation (Fig. 1) on emoverse-nano trained from scratch on CPU:
// build EMT if needed, train the recipe (LM pre-training, then the LoRA stages), save the model
// folder the gateway serves, fit its label offsets on dev (calibrate.ts), evaluate that folder
// through the gateway's serving code on the full test splits with the baselines of the same run,
// write the run's table and its loss-curve PNG.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EmtRecord } from '@emoverse/emt';
import {
  DirectoryCheckpointStore,
  type EmtExample,
  EXPERIMENTS,
  type ExperimentName,
  loadShippedRecipe,
  lossCurveData,
  type Recipe,
  type StepLog,
  smokeRecipe,
  writeFileAtomic,
} from '@emoverse/m2se';
import { lossCurvesPng } from '@emoverse/plots';
import { CALIBRATION_FILE, type Calibration, readCalibration } from '@emoverse/serving';
import { gitCommit } from './ablation.js';
import { type BaselineName, baselineAnswers } from './baselines.js';
import { type CalibratedTask, calibrateModelDir } from './calibrate.js';
import { ensureEmt } from './data.js';
import {
  type EvalAnswer,
  type EvalRecords,
  type EvalSplit,
  evaluateModelDir,
  splitRecords,
} from './evaluate.js';
import { planRun } from './plan.js';
import { type RunScores, scoreAnswers } from './scores.js';
import { trainRun } from './train-run.js';

export interface ExperimentOptions {
  name: ExperimentName;
  /** The shared data folder (data/meld, data/ecf). */
  sharedDir: string;
  /** Where EMT, checkpoints and models go. */
  workDir: string;
  /** Where results/<table>.md and the PNGs go. */
  resultsDir: string;
  /** CI size: a few steps per phase and a few test records per task. */
  smoke?: boolean;
  /** Records per task: for quick looks only (default: all; smoke: 8). */
  evalLimit?: number;
  /** The split scored: 'test' (reported numbers, the default) or 'dev' (diagnosis, tuning). */
  evalSplit?: EvalSplit;
  /** Re-evaluates the model folder an earlier run of this recipe and seed saved, without training. */
  evaluateOnly?: boolean;
  /**
   * The model folder's decision rule (calibration.json, label offsets fitted on dev): 'fit' (the
   * default after training), 'keep' (the default with evaluateOnly: the folder's own) or 'none'
   * (plain argmax: the file is removed).
   */
  calibration?: 'fit' | 'keep' | 'none';
  /** Runs over several seeds use the recipe's seed + seedOffset (0, 1, 2, ...). */
  seedOffset?: number;
  log?: (line: string) => void;
}

/** What one run measured, as written to <results>/runs/<name>-seed<seed>.json. */
export interface RunRecord {
  name: ExperimentName;
  seed: number;
  split: EvalSplit;
  /** Records scored per task (all of the split unless --eval-limit). */
  records: Partial<Record<string, number>>;
  limited: boolean;
  smoke: boolean;
  scores: RunScores;
  /** The baselines on the same records, same run. */
  baselines: { name: BaselineName; note: string; scores: RunScores }[];
  trainSeconds: number;
  evalSeconds: number;
  modelDir: string;
  /** The label offsets the model folder was evaluated with, and their dev metric before and after. */
  calibration?: Calibration;
  /** The commit the run's code was at when it started ("+dirty": with uncommitted changes). */
  commit?: string;
}

export interface ExperimentResult {
  run: RunRecord;
  runPath: string;
  plotPath: string;
  history: { pretraining: StepLog[]; stages: StepLog[] };
}

export function isExperimentName(name: string): name is ExperimentName {
  return (EXPERIMENTS as readonly string[]).includes(name);
}

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  const log = o.log ?? (() => {});
  const commit = gitCommit();
  const emtDir = await ensureEmt(o.sharedDir, o.workDir, log);
  const shipped = loadShippedRecipe(`${o.name}-nano`);
  const seeded = { ...shipped, seed: shipped.seed + (o.seedOffset ?? 0) };
  const base = o.smoke ? smokeRecipe(seeded, { samples: 16 }) : seeded;
  const { recipe, examples, dropped } = await planRun({
    recipe: base,
    datasetDir: emtDir,
    dropMissingTasks: true,
  });
  for (const d of dropped)
    log(`no ${d.task} data: left out of stage "${d.stage}" (rate ${d.rate}), other rates rescaled`);
  const tasks = Object.keys(examples).map((t) => t.toLowerCase());
  const evalTasks = (['er', 'msa', 'ecpe'] as const).filter((t) => tasks.includes(t));
  const split = o.evalSplit ?? 'test';
  const limit = o.evalLimit ?? (o.smoke ? 8 : undefined);
  // the records scored (model and baselines alike), read once; an empty split stops the run before training
  const records: EvalRecords = {};
  for (const t of evalTasks) records[t] = await splitRecords(emtDir, t, split, limit);

  const runName = `${o.name}-seed${recipe.seed}${o.smoke ? '-smoke' : ''}`;
  const tag = `${runName}${split === 'dev' ? '-dev' : ''}`;
  const runsDir = join(o.resultsDir, 'runs');
  const modelDir = join(o.workDir, 'models', `${recipe.name}-seed${recipe.seed}`);
  const trained = o.evaluateOnly
    ? previousTraining(modelDir, join(runsDir, `${runName}.json`))
    : await train(o, recipe, examples, modelDir, log);
  const { trainSeconds } = trained;
  const calibration = await decisionRule(o, recipe, modelDir, emtDir, evalTasks, log);
  const evalStarted = performance.now();
  log(
    `evaluating ${modelDir} through the gateway's serving code on ${limit ?? 'all'} ${split} records per task ...`,
  );
  const answers = await evaluateModelDir(modelDir, records, {
    onProgress: (task, done, total) => {
      if (done === total || done % 500 === 0) log(`  ${task} ${done}/${total}`);
    },
  });

  const ecpeRecords = records.ecpe ?? [];
  const baselines = await baselineAnswers(emtDir, records);
  const byName = new Map<BaselineName, { note: string; answers: EvalAnswer[] }>();
  for (const b of baselines) {
    const entry = byName.get(b.name) ?? { note: b.note, answers: [] };
    entry.answers.push(...b.answers);
    byName.set(b.name, entry);
  }
  const run: RunRecord = {
    name: o.name,
    seed: recipe.seed,
    split,
    records: Object.fromEntries(evalTasks.map((t) => [t, records[t]?.length ?? 0])),
    limited: limit !== undefined && !o.smoke,
    smoke: o.smoke === true,
    scores: scoreAnswers(answers, ecpeRecords),
    baselines: [...byName].map(([name, b]) => ({
      name,
      note: b.note,
      scores: scoreAnswers(b.answers, ecpeRecords),
    })),
    trainSeconds,
    evalSeconds: (performance.now() - evalStarted) / 1000,
    modelDir,
    calibration,
    commit,
  };

  mkdirSync(runsDir, { recursive: true });
  const runPath = join(runsDir, `${tag}.json`);
  writeFileAtomic(runPath, `${JSON.stringify(run, null, 2)}\n`);
  writeFileAtomic(
    join(runsDir, `${tag}-answers.jsonl`),
    answers.map((a) => `${JSON.stringify(a)}\n`).join(''),
  );
  const { pre, stages } = trained;
  const plotPath = join(o.resultsDir, `${o.name}${o.smoke ? '-smoke' : ''}-loss.png`);
  if (!o.evaluateOnly) writeFileAtomic(plotPath, await lossPlotPng(pre, stages, recipe.name));
  return { run, runPath, plotPath, history: { pretraining: pre, stages } };
}

interface Trained {
  trainSeconds: number;
  pre: StepLog[];
  stages: StepLog[];
}

/** Trains the recipe from scratch (trainRun, as the trainer service) and saves the served model to `modelDir`. */
async function train(
  o: ExperimentOptions,
  recipe: Recipe,
  examples: Partial<Record<string, EmtExample[]>>,
  modelDir: string,
  log: (line: string) => void,
): Promise<Trained> {
  const ckpt = join(o.workDir, 'checkpoints', `${recipe.name}-seed${recipe.seed}`);
  const training = await trainRun(
    { recipe, examples },
    {
      stores: {
        pretraining: new DirectoryCheckpointStore(join(ckpt, 'pretraining')),
        stages: new DirectoryCheckpointStore(join(ckpt, 'stages')),
      },
      checkpointEvery: 50,
      vocabSize: o.smoke ? 512 : undefined,
      outDir: { model: modelDir },
      onStep: (phase, p) => {
        if (p.globalStep % 10 === 0 || p.globalStep + 1 === p.totalSteps) {
          const losses = Object.entries(p.losses)
            .map(([t, l]) => `${t} ${(l as number).toFixed(3)}`)
            .join(', ');
          log(
            `${phase} step ${p.globalStep + 1}/${p.totalSteps} lr ${p.lr.toExponential(2)} ${losses} (${p.tokensPerSecond.toFixed(0)} tok/s)`,
          );
        }
      },
      log,
    },
  );
  if (!training.completed) throw new Error(`${recipe.name}: training stopped before the end`);
  const { trainSeconds, history } = training;
  return { trainSeconds, pre: history.pretraining, stages: history.stages };
}

/**
 * Fits (or keeps, or removes) the model folder's label offsets, for the tasks the recipe names in
 * `calibrate`. They are fitted on the dev split, whatever split is then scored: dev scores after a fit
 * are in-sample.
 */
async function decisionRule(
  o: ExperimentOptions,
  recipe: Recipe,
  modelDir: string,
  emtDir: string,
  tasks: readonly string[],
  log: (line: string) => void,
): Promise<Calibration | undefined> {
  const mode = o.calibration ?? (o.evaluateOnly ? 'keep' : 'fit');
  if (mode === 'keep') return readCalibration(modelDir);
  if (mode === 'none') {
    rmSync(join(modelDir, CALIBRATION_FILE), { force: true });
    return undefined;
  }
  const dev: Partial<Record<CalibratedTask, EmtRecord[]>> = {};
  for (const t of ['er', 'msa'] as const) {
    const wanted = recipe.calibrate.includes(t.toUpperCase() as 'ER' | 'MSA');
    if (wanted && tasks.includes(t)) dev[t] = await splitRecords(emtDir, t, 'dev', o.smoke ? 16 : undefined);
  }
  if (Object.keys(dev).length === 0) {
    rmSync(join(modelDir, CALIBRATION_FILE), { force: true });
    return undefined;
  }
  const fitted = await calibrateModelDir(modelDir, dev);
  for (const [task, f] of Object.entries(fitted.fitted ?? {}) as [string, FitNote][])
    log(`calibrated ${task} on ${f.records} dev records: ${f.metric} ${pct(f.before)} -> ${pct(f.after)}`);
  return fitted;
}

const pct = (x: number) => (100 * x).toFixed(2);
type FitNote = NonNullable<Calibration['fitted']>[string];

/** --evaluate-only: the model folder an earlier run saved, and that run's training time if recorded. */
function previousTraining(modelDir: string, runPath: string): Trained {
  if (!existsSync(join(modelDir, 'emoverse.json')))
    throw new Error(`--evaluate-only: no saved model at ${modelDir}; train it first`);
  const before = existsSync(runPath) ? (JSON.parse(readFileSync(runPath, 'utf8')) as RunRecord) : undefined;
  return { trainSeconds: before?.trainSeconds ?? Number.NaN, pre: [], stages: [] };
}

/** The loss PNG of a run: pre-training ("LM") and the stages on one step axis, stage starts marked. */
export function lossPlotPng(
  pre: readonly StepLog[],
  stages: readonly StepLog[],
  title: string,
): Promise<Buffer> {
  return lossCurvesPng(...lossPlot(pre, stages, title));
}

function lossPlot(
  pre: readonly StepLog[],
  stages: readonly StepLog[],
  title: string,
): Parameters<typeof lossCurvesPng> {
  const offset = pre.length;
  const data = lossCurveData(stages.map((s) => ({ ...s, globalStep: s.globalStep + offset })));
  const points = [
    ...pre.map((s) => ({ step: s.globalStep, task: 'LM pre-training', loss: s.loss })),
    ...data.points,
  ];
  const boundaries = [
    ...(offset > 0 ? [{ step: offset, label: `stage 1: ${stages[0]?.stageName ?? ''}` }] : []),
    ...data.stageBoundaries,
  ];
  return [
    points,
    {
      title: `${title}: training loss per task`,
      stageBoundaries: boundaries,
      smooth: stages.length > 40 ? 5 : 1,
    },
  ];
}
