// Planning a run before any compute: the recipe parsed and validated (unknown task, rates not summing
// to 1, ... from packages/m2se), its training data loaded (every shard it names found and readable,
// loadTrainData), each phase's stages planned against the example counts (a task without examples,
// nothing left for "samples: remaining"), and the base checkpoint checked against the recipe. Anything
// wrong becomes one RunRejected listing every problem. The trainer service and `npm run experiment`
// both start here, then trainRun.
import { existsSync, statSync } from 'node:fs';
import {
  type EmtExample,
  parseRecipe,
  planStages,
  pretrainingExamples,
  pretrainingRecipe,
  type Recipe,
  RecipeError,
  type StagePlan,
  type TaskCounts,
  type TaskName,
} from '@emoverse/m2se';
import { checkBaseCheckpoint, FROM_SCRATCH } from './base-model.js';
import { loadTrainData, type TrainData } from './data.js';
import { RunRejected } from './rejected.js';

export interface RunPlan {
  recipe: Recipe;
  datasetDir: string;
  counts: TaskCounts;
  /** Stage plans of the optional LM pre-training phase and of the recipe's stages. */
  pretraining: StagePlan[];
  stages: StagePlan[];
  pretrainingSteps: number;
  /** Optimizer steps of the whole run (both phases). */
  totalSteps: number;
  /** Base checkpoint folder (request override or the recipe's model.checkpoint). */
  baseCheckpoint?: string;
}

/** A planned run: what trainRun needs, and what planning found. */
export interface PlannedRun {
  plan: RunPlan;
  /** The recipe trained (with dropMissingTasks, restricted to the tasks that have data). */
  recipe: Recipe;
  examples: Partial<Record<TaskName, EmtExample[]>>;
  /** Tasks (per stage) left out for lack of data (dropMissingTasks only). */
  dropped: TrainData['dropped'];
  baseCheckpoint?: string;
}

export interface PlanInput {
  /** Recipe text (YAML or JSON), or a recipe already parsed. */
  recipe: string | Recipe;
  format?: 'yaml' | 'json';
  /** Name used in messages, e.g. the file name. */
  source?: string;
  datasetDir: string;
  /** Overrides the recipe's model.checkpoint. */
  baseCheckpoint?: string;
  /** Leaves out the tasks that have no shards here and rescales their stage's rates (experiments). */
  dropMissingTasks?: boolean;
}

/** Runs `fn`, turning a recipe or data problem into RunRejected. */
async function rejecting<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RecipeError) throw new RunRejected(err.problems);
    if (err instanceof RunRejected) throw err;
    throw new RunRejected([(err as Error).message]);
  }
}

const totalOf = (plans: StagePlan[]) => plans.reduce((s, p) => s + p.totalSteps, 0);

/** The base checkpoint of a run, or none for a model made from scratch; throws RunRejected when it needs one. */
function baseCheckpointOf(recipe: Recipe, override?: string): string | undefined {
  const checkpoint = override || recipe.model.checkpoint;
  if (!checkpoint && !(FROM_SCRATCH as readonly string[]).includes(recipe.model.base)) {
    throw new RunRejected([
      `model.base: "${recipe.model.base}" needs a base checkpoint (model.checkpoint or base_model); ` +
        `only ${FROM_SCRATCH.join(', ')} is created from scratch`,
    ]);
  }
  return checkpoint;
}

/** Both phases' stage plans against the example counts. */
function planPhases(recipe: Recipe, examples: PlannedRun['examples']) {
  const counts: TaskCounts = {};
  for (const [t, list] of Object.entries(examples) as [TaskName, EmtExample[]][]) counts[t] = list.length;
  // the pre-training reads what trainRecipe gives it (one record per conversation with distinct: conversation)
  const preCounts: TaskCounts = {};
  for (const [t, list] of Object.entries(pretrainingExamples(recipe, examples)) as [TaskName, EmtExample[]][])
    preCounts[t] = list.length;
  const pre = pretrainingRecipe(recipe, preCounts);
  return { counts, pretraining: pre ? planStages(pre, preCounts) : [], stages: planStages(recipe, counts) };
}

/** Validates everything about a run; returns its plan and training examples, or throws RunRejected. */
export async function planRun(input: PlanInput): Promise<PlannedRun> {
  const parsed = await rejecting(() =>
    typeof input.recipe === 'string'
      ? parseRecipe(input.recipe, { format: input.format, source: input.source })
      : input.recipe,
  );
  const baseCheckpoint = baseCheckpointOf(parsed, input.baseCheckpoint);
  const { datasetDir } = input;
  if (!existsSync(datasetDir) || !statSync(datasetDir).isDirectory()) {
    throw new RunRejected([`dataset folder ${datasetDir} does not exist`]);
  }
  const { recipe, examples, dropped } = await rejecting(() =>
    loadTrainData(parsed, datasetDir, { dropMissingTasks: input.dropMissingTasks }),
  );
  const { counts, pretraining, stages } = await rejecting(() => planPhases(recipe, examples));
  if (baseCheckpoint) checkBaseCheckpoint(baseCheckpoint, recipe);
  const pretrainingSteps = totalOf(pretraining);
  const totalSteps = pretrainingSteps + totalOf(stages);
  const plan = {
    recipe,
    datasetDir,
    counts,
    pretraining,
    stages,
    pretrainingSteps,
    totalSteps,
    baseCheckpoint,
  };
  return { plan, recipe, examples, dropped, baseCheckpoint };
}
