// Stage 3: train emoverse-nano with the M2SE recipe through the trainer service (StartRun, then
// WatchRun for progress), which publishes the model (model.published + the registry in NATS KV) when
// the run succeeds. The per-task losses of the progress events give the report's loss curves.
import { readFileSync } from 'node:fs';
import { loadShippedRecipe, shippedRecipePath, smokeRecipe } from '@emoverse/m2se';
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

/** The recipe text sent to the trainer: the shipped YAML, or for --quick its smoke form as JSON. */
export function recipeFor(profile: DemoProfile): { text: string; format: RecipeFormat; name: string } {
  if (profile.smokeSamples) {
    const r = smokeRecipe(loadShippedRecipe(profile.recipe), { samples: profile.smokeSamples });
    return { text: JSON.stringify(r), format: RecipeFormat.JSON, name: r.name };
  }
  return {
    text: readFileSync(shippedRecipePath(profile.recipe), 'utf8'),
    format: RecipeFormat.YAML,
    name: profile.recipe,
  };
}

export async function runTraining(
  profile: DemoProfile,
  o: { trainerAddress: string; datasetDir: string; out?: ProgressWriter; signal?: AbortSignal },
): Promise<TrainingResult> {
  const t0 = performance.now();
  const trainer = createClient(TrainerService, o.trainerAddress);
  const recipe = recipeFor(profile);
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
        losses.push({ step: p.step, task: 'total (weighted)', loss: p.loss });
        for (const t of p.tasks)
          if (t.samples > 0 || t.loss > 0)
            losses.push({ step: p.step, task: taskName(t.task).toUpperCase(), loss: t.loss });
        bar.update(p.step, {
          total: p.totalSteps,
          status: `${p.stageName || `stage ${p.stage}`} loss ${p.loss.toFixed(3)} ${p.tokensPerS ? `${Math.round(p.tokensPerS)} tok/s` : ''}`,
        });
      } else if (u.update.case === 'run') {
        run = u.update.value;
        if (run.status >= JobStatus.SUCCEEDED) break;
      }
    }
    if (!run || run.status !== JobStatus.SUCCEEDED) {
      // The stream ended without a final state: ask once.
      run = (await trainer.getRun({ runId: started.runId || runId })).run ?? run;
    }
    if (run?.status !== JobStatus.SUCCEEDED || !run.model) {
      throw new Error(
        `training run ${runId} ended ${run ? JobStatus[run.status] : 'without a state'}${run?.error ? `: ${run.error.code} ${run.error.message}` : ''}`,
      );
    }
    bar.finish(`published ${run.model.modelId} ${run.model.version}`);
    return {
      runId: run.runId,
      recipeName: recipe.name,
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
