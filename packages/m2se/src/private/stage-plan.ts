// A stage's numbers, derived from the recipe and how many examples each task has: how many samples
// each task contributes (sampling rate x budget), and how many micro-batches and optimizer steps follow.
import { type Recipe, RecipeError, stageTasks } from './recipe.js';
import type { TaskName } from './tasks.js';

export type TaskCounts = Partial<Record<TaskName, number>>;

export interface StagePlan {
  index: number;
  name: string;
  /** Tasks of the stage, canonical order. */
  tasks: TaskName[];
  rates: Partial<Record<TaskName, number>>;
  epochs: number;
  /** The stage's sample budget (examples per epoch). */
  samples: number;
  /** Examples each task contributes; they sum to `samples`. */
  quotas: Partial<Record<TaskName, number>>;
  /**
   * Where in each task's example stream this stage starts: later stages continue after the examples
   * earlier stages took, so stage 2 trains on the "remaining samples" as in the paper.
   */
  offsets: Partial<Record<TaskName, number>>;
  microBatchesPerEpoch: number;
  optimizerStepsPerEpoch: number;
  /** Optimizer steps of the whole stage (all epochs): the length of its lr schedule. */
  totalSteps: number;
  warmupSteps: number;
  /** Optimizer steps of all earlier stages. */
  firstGlobalStep: number;
}

/**
 * Splits `samples` by `rates` with the largest-remainder method, so that the quotas sum exactly to
 * the budget; remainders tie-break in canonical task order (deterministic).
 */
export function allocateQuotas(
  tasks: readonly TaskName[],
  rates: Partial<Record<TaskName, number>>,
  samples: number,
): Partial<Record<TaskName, number>> {
  const exact = tasks.map((t) => (rates[t] ?? 0) * samples);
  const floors = exact.map(Math.floor);
  let left = samples - floors.reduce((a, b) => a + b, 0);
  const order = tasks.map((_, i) => i).sort((a, b) => exact[b] - floors[b] - (exact[a] - floors[a]) || a - b);
  for (const i of order) {
    if (left <= 0) break;
    floors[i] += 1;
    left -= 1;
  }
  const out: Partial<Record<TaskName, number>> = {};
  tasks.forEach((t, i) => {
    out[t] = floors[i];
  });
  return out;
}

export function planStages(recipe: Recipe, counts: TaskCounts): StagePlan[] {
  const used: Partial<Record<TaskName, number>> = {};
  const problems: string[] = [];
  const plans: StagePlan[] = [];
  let firstGlobalStep = 0;
  recipe.stages.forEach((stage, index) => {
    const tasks = stageTasks(stage);
    for (const t of tasks) {
      if (!((counts[t] ?? 0) > 0))
        problems.push(`stages[${index}] (${stage.name}): task ${t} has no examples`);
    }
    let samples: number;
    if (stage.samples === 'remaining') {
      samples = tasks.reduce((s, t) => s + Math.max(0, (counts[t] ?? 0) - (used[t] ?? 0)), 0);
      if (samples <= 0) {
        problems.push(`stages[${index}] (${stage.name}): no examples remain for "samples: remaining"`);
        samples = 1;
      }
    } else if (stage.samples === 'all') {
      samples = Math.max(
        1,
        tasks.reduce((s, t) => s + (counts[t] ?? 0), 0),
      );
    } else samples = stage.samples;
    const quotas = allocateQuotas(tasks, stage.tasks, samples);
    const offsets: Partial<Record<TaskName, number>> = {};
    for (const t of tasks) {
      offsets[t] = used[t] ?? 0;
      used[t] = (used[t] ?? 0) + (quotas[t] ?? 0);
    }
    const microBatchesPerEpoch = Math.ceil(samples / recipe.batch.size);
    const optimizerStepsPerEpoch = Math.ceil(microBatchesPerEpoch / recipe.batch.gradAccumulation);
    const totalSteps = optimizerStepsPerEpoch * stage.epochs;
    const warmupSteps =
      recipe.schedule.warmupSteps ?? Math.round((recipe.schedule.warmupRatio ?? 0) * totalSteps);
    plans.push({
      index,
      name: stage.name,
      tasks,
      rates: { ...stage.tasks },
      epochs: stage.epochs,
      samples,
      quotas,
      offsets,
      microBatchesPerEpoch,
      optimizerStepsPerEpoch,
      totalSteps,
      warmupSteps: Math.min(warmupSteps, totalSteps),
      firstGlobalStep,
    });
    firstGlobalStep += totalSteps;
  });
  if (problems.length > 0) throw new RecipeError(problems, `recipe "${recipe.name}"`);
  return plans;
}
