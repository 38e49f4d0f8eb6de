// One experiment of the paper's ablation (Fig. 1) on emoverse-nano trained from scratch on CPU:
// build EMT if needed, train the recipe (LM pre-training, then the LoRA stages), evaluate on the
// test splits, write the run's row of the results table and its loss-curve PNG.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildEmt } from '@emoverse/emt';
import {
  DirectoryCheckpointStore,
  EXPERIMENTS,
  type ExperimentName,
  loadShippedRecipe,
  lossCurveData,
  type ResultRow,
  type StepLog,
  smokeRecipe,
  trainRecipe,
  writeResultRows,
} from '@emoverse/m2se';
import { EmoVerseLM } from '@emoverse/models';
import { lossCurvesPng } from '@emoverse/plots';
import { loadTrainData } from './data.js';
import {
  type EvalReport,
  evaluateOnEmt,
  majorityBaselineRows,
  PAPER_REFERENCE,
  resultRow,
} from './evaluate.js';

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
  /** Test records per task (default: 400; smoke: 8). */
  evalLimit?: number;
  log?: (line: string) => void;
}

export interface ExperimentResult {
  row: ResultRow;
  report: EvalReport;
  tablePath: string;
  plotPath: string;
  modelDir: string;
  history: { pretraining: StepLog[]; stages: StepLog[] };
  seconds: number;
}

export function isExperimentName(name: string): name is ExperimentName {
  return (EXPERIMENTS as readonly string[]).includes(name);
}

/** Builds EMT into `<workDir>/emt` unless it is there already (same seed, same bytes). */
export async function ensureEmt(
  sharedDir: string,
  workDir: string,
  log?: (line: string) => void,
): Promise<string> {
  const dir = join(workDir, 'emt');
  if (!existsSync(join(sharedDir, 'data', 'meld'))) {
    throw new Error(
      `no MELD data under ${sharedDir}/data/meld: give the shared folder (--shared or EMOVERSE_SHARED)`,
    );
  }
  if (!existsSync(join(dir, 'manifest.json'))) {
    log?.(`building EMT from ${sharedDir} ...`);
    const r = await buildEmt({ sharedDir, outDir: dir, seed: 0 });
    log?.(`EMT: ${r.manifest.total} records`);
    if (r.manifest.total === 0) throw new Error(`EMT built from ${sharedDir} is empty`);
  }
  return dir;
}

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  const started = performance.now();
  const log = o.log ?? (() => {});
  const emtDir = await ensureEmt(o.sharedDir, o.workDir, log);
  const shipped = loadShippedRecipe(`${o.name}-nano`);
  const base = o.smoke ? smokeRecipe(shipped, { samples: 16 }) : shipped;
  const { recipe, examples, dropped } = await loadTrainData(base, emtDir, { dropMissingTasks: true });
  for (const d of dropped)
    log(`no ${d.task} data: left out of stage "${d.stage}" (rate ${d.rate}), other rates rescaled`);

  // the tokenizer is learnt from (a slice of) the training text; the model starts from random weights
  const corpus = Object.values(examples)
    .flatMap((list) => (list ?? []).slice(0, 1500))
    .flatMap((e) => [e.query, e.response]);
  const model = EmoVerseLM.createNano({ corpus, vocabSize: o.smoke ? 512 : 2048, seed: recipe.seed });
  log(
    `${recipe.name}: emoverse-nano, vocab ${model.tokenizer.vocabSize}, tasks ${Object.keys(examples).join(', ')}`,
  );

  const ckpt = join(o.workDir, 'checkpoints', recipe.name);
  const run = await trainRecipe({
    recipe,
    model,
    examples,
    stores: {
      pretraining: new DirectoryCheckpointStore(join(ckpt, 'pretraining')),
      stages: new DirectoryCheckpointStore(join(ckpt, 'stages')),
    },
    checkpointEvery: 50,
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
  });
  const trainer = run.trainer;
  if (!run.completed || !trainer) throw new Error(`${recipe.name}: training stopped before the end`);
  const params = await trainer.parameters();
  const adapter = await trainer.adapter();
  await trainer.release();
  // the stages' projector W_v and the merged LoRA adapter give the served model
  const projector = new Map([...params].filter(([n]) => n.startsWith('projector.')));
  const trained = run.base.withParameters(projector).withAdapter(adapter);
  const modelDir = join(o.workDir, 'models', recipe.name);
  trained.save(modelDir);

  const limit = o.evalLimit ?? (o.smoke ? 8 : 400);
  log(`evaluating on up to ${limit} test records per task ...`);
  const tasks = Object.keys(examples).map((t) => t.toLowerCase());
  const evalTasks = (['er', 'msa', 'ecpe'] as const).filter((t) => tasks.includes(t));
  // prompts as long as in training (answers are short; ECPE's generation gets 24 new tokens)
  const report = await evaluateOnEmt(trained, emtDir, evalTasks, {
    limit,
    maxPromptTokens: recipe.batch.maxSeqLen - 24,
  });
  await trained.release();

  const note = `${o.smoke ? 'smoke; ' : ''}n=${limit}/task`;
  const row = resultRow(o.name, report, note);
  mkdirSync(o.resultsDir, { recursive: true });
  const tablePath = join(o.resultsDir, o.smoke ? 'ablation-smoke.md' : 'ablation.md');
  const baselines = await majorityBaselineRows(emtDir, { limit });
  writeResultRows(
    tablePath,
    [...baselines, PAPER_REFERENCE, row],
    'M2SE ablation on emoverse-nano (CPU, from scratch)',
  );
  writeFileSync(
    join(o.resultsDir, `${o.name}${o.smoke ? '-smoke' : ''}-answers.jsonl`),
    report.answers.map((a) => `${JSON.stringify(a)}\n`).join(''),
  );

  const pre = run.pretraining?.history ?? [];
  const stages = run.stages?.history ?? [];
  const plotPath = join(o.resultsDir, `${o.name}${o.smoke ? '-smoke' : ''}-loss.png`);
  writeFileSync(plotPath, await lossPlotPng(pre, stages, recipe.name));
  return {
    row,
    report,
    tablePath,
    plotPath,
    modelDir,
    history: { pretraining: pre, stages },
    seconds: (performance.now() - started) / 1000,
  };
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
