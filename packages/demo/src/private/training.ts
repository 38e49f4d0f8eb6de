// Stage 3: train emoverse-nano with the M2SE recipe through the trainer service (StartRun, then
// WatchRun for progress), which publishes the model (model.published + the registry in NATS KV) when
// the run succeeds. The per-task losses of the progress events give the report's loss curves.
import { loadShippedRecipe, recipeTasks, restrictToTasks, smokeRecipe, validateRecipe } from '@emoverse/m2se';
import {
  JobStatus,
  type ModelPublished,
  RecipeFormat,
  type Run,
  TrainerService,
  type TrainingProgress,
  taskName,
} from '@emoverse/proto';
import { createClient } from '@emoverse/service-kit';
import type { DemoProfile } from './options.js';
import { type ProgressWriter, progress } from './progress.js';

export interface LossPoint {
  step: number;
  task: string;
  loss: number;
}

export interface TrainingResult {
  runId: string;
  recipeName: string;
  /** Tasks left out of a stage for want of train records. */
  droppedTasks: { stage: string; task: string; rate: number }[];
  model: ModelPublished;
  steps: number;
  /** Weighted total loss and each task's loss per logged step. */
  losses: LossPoint[];
  /** Global steps where a stage begins, with its name. */
  stageStarts: { step: number; label: string }[];
  finalLoss?: number;
  tokensPerS?: number;
  seconds: number;
}

/**
 * The recipe sent to the trainer: the shipped one (for --quick its smoke form), without the tasks the
 * EMT build has no train records for (FER: MELD's videos are not in the shared folder), the other rates
 * of that stage scaled up to sum to 1.
 */
export function recipeFor(
  profile: DemoProfile,
  trainCounts: Readonly<Record<string, number>>,
): {
  text: string;
  format: RecipeFormat;
  name: string;
  dropped: { stage: string; task: string; rate: number }[];
} {
  const shipped = loadShippedRecipe(profile.recipe);
  let base = profile.smokeSamples ? smokeRecipe(shipped, { samples: profile.smokeSamples }) : shipped;
  if (profile.pretrainingSamples && base.pretraining)
    base = validateRecipe({
      ...base,
      pretraining: { ...base.pretraining, samples: profile.pretrainingSamples },
    });
  if (profile.stageSamples) {
    const samples = profile.stageSamples;
    base = validateRecipe({ ...base, stages: base.stages.map((s) => ({ ...s, samples })) });
  }
  const available: string[] = recipeTasks(base).filter((t) => (trainCounts[t.toLowerCase()] ?? 0) > 0);
  const { recipe, dropped } = restrictToTasks(base, available);
  const shards = Object.fromEntries(
    Object.entries(recipe.data.shards).filter(([task]) => available.includes(task)),
  );
  const r = { ...recipe, data: { ...recipe.data, shards } };
  return { text: JSON.stringify(r), format: RecipeFormat.JSON, name: r.name, dropped };
}

export async function runTraining(
  profile: DemoProfile,
  o: {
    trainerAddress: string;
    datasetDir: string;
    /** Train records per task (lower-case names), from the EMT manifest. */
    trainCounts: Readonly<Record<string, number>>;
    out?: ProgressWriter;
    signal?: AbortSignal;
  },
): Promise<TrainingResult> {
  const t0 = performance.now();
  const trainer = createClient(TrainerService, o.trainerAddress);
  const recipe = recipeFor(profile, o.trainCounts);
  const runId = `demo-${profile.name}-${Date.now().toString(36)}`;
  const bar = progress(`training ${recipe.name}`, 0, o.out);
  const losses: LossPoint[] = [];
  const stageStarts: { step: number; label: string }[] = [];
  const budget = AbortSignal.timeout(profile.trainBudgetS * 1000);
  const signal = o.signal ? AbortSignal.any([o.signal, budget]) : budget;
  let last: TrainingProgress | undefined;
  let run: Run | undefined;
  try {
    const started = await trainer.startRun(
      {
        recipe: recipe.text,
        format: recipe.format,
        dataset: { case: 'datasetPath', value: o.datasetDir },
        runId,
        device: 'cpu',
        labels: { origin: 'demo', profile: profile.name, budget_s: String(profile.trainBudgetS) },
      },
      { timeoutMs: 120_000 },
    );
    run = started.run;
    const seen = new Set<string>();
    for await (const u of trainer.watchRun({ runId: started.runId || runId }, { signal })) {
      if (u.update.case === 'progress') {
        const p = u.update.value;
        last = p;
        const key = `${p.stage}/${p.step}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (!stageStarts.some((s) => s.label.startsWith(`stage ${p.stage}`)))
          stageStarts.push({ step: p.step, label: `stage ${p.stage}: ${p.stageName}` });
        if (p.stage === 0) {
          // the LM pre-training pass (all weights, all tasks' text): one curve
          losses.push({ step: p.step, task: 'LM pre-training', loss: p.loss });
        } else {
          losses.push({ step: p.step, task: 'total (weighted)', loss: p.loss });
          for (const t of p.tasks)
            if (t.samples > 0 || t.loss > 0)
              losses.push({ step: p.step, task: taskName(t.task).toUpperCase(), loss: t.loss });
        }
        bar.update(p.step, {
          total: p.totalSteps,
          status: `${p.stageName || `stage ${p.stage}`} loss ${p.loss.toFixed(3)} ${p.tokensPerS ? `${Math.round(p.tokensPerS)} tok/s` : ''}`,
        });
      } else if (u.update.case === 'run') {
        run = u.update.value;
        // Done once the model is published (the worker may still be closing) or the run ended.
        if (run.model || run.status >= JobStatus.SUCCEEDED) break;
      }
    }
    if (!run || (!run.model && run.status !== JobStatus.SUCCEEDED)) {
      // The stream ended without a final state: ask once.
      run = (await trainer.getRun({ runId: started.runId || runId })).run ?? run;
    }
    if (!run?.model || (run.status !== JobStatus.SUCCEEDED && run.status !== JobStatus.RUNNING)) {
      throw new Error(
        `training run ${runId} ended ${run ? JobStatus[run.status] : 'without a state'}${run?.error ? `: ${run.error.code} ${run.error.message}` : ''}`,
      );
    }
    bar.finish(`published ${run.model.modelId} ${run.model.version}`);
    return {
      runId: run.runId,
      recipeName: recipe.name,
      droppedTasks: recipe.dropped,
      model: run.model,
      steps: last?.totalSteps ?? run.totalSteps,
      losses,
      stageStarts,
      finalLoss: last?.loss,
      tokensPerS: last?.tokensPerS,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    const why = budget.aborted ? `over the ${profile.trainBudgetS} s budget` : (e as Error).message;
    if (budget.aborted || o.signal?.aborted)
      await trainer.cancelRun({ runId }, { timeoutMs: 10_000 }).catch(() => {});
    bar.fail(why);
    throw budget.aborted ? new Error(`training ${why}`) : e;
  } finally {
    trainer.close();
  }
}
