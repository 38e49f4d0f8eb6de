// Planning a run before any compute: the recipe parsed and validated (unknown task, rates not summing
// to 1, ... from packages/m2se), every shard it names found in the dataset and readable, each phase's
// stages planned against the example counts (a task without examples, nothing left for
// "samples: remaining"), and the base checkpoint's tensors checked against its config. Anything wrong
// becomes one RunRejected listing every problem.
import { existsSync, statSync } from 'node:fs';
import {
  checkShards,
  type EmtExample,
  listFilesUnder,
  parseRecipe,
  planStages,
  pretrainingRecipe,
  type Recipe,
  RecipeError,
  readEmtShards,
  type StagePlan,
  type TaskCounts,
  type TaskName,
} from '@emoverse/m2se';
import { checkBaseCheckpoint, FROM_SCRATCH } from './base-model.js';
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

export interface PlanInput {
  /** Recipe text (YAML or JSON). */
  recipe: string;
  format?: 'yaml' | 'json';
  /** Name used in messages, e.g. the file name. */
  source?: string;
  datasetDir: string;
  /** Overrides the recipe's model.checkpoint. */
  baseCheckpoint?: string;
}

function rejectFrom(err: unknown): never {
  if (err instanceof RecipeError) throw new RunRejected(err.problems);
  if (err instanceof RunRejected) throw err;
  throw new RunRejected([(err as Error).message]);
}

const totalOf = (plans: StagePlan[]) => plans.reduce((s, p) => s + p.totalSteps, 0);

/** Validates everything about a run; returns its plan and training examples, or throws RunRejected. */
export async function planRun(
  input: PlanInput,
): Promise<{ plan: RunPlan; examples: Partial<Record<TaskName, EmtExample[]>> }> {
  let recipe: Recipe;
  try {
    recipe = parseRecipe(input.recipe, { format: input.format, source: input.source });
  } catch (err) {
    rejectFrom(err);
  }
  const baseCheckpoint = input.baseCheckpoint || recipe.model.checkpoint;
  if (!baseCheckpoint && !(FROM_SCRATCH as readonly string[]).includes(recipe.model.base)) {
    throw new RunRejected([
      `model.base: "${recipe.model.base}" needs a base checkpoint (model.checkpoint or base_model); ` +
        `only ${FROM_SCRATCH.join(', ')} is created from scratch`,
    ]);
  }
  if (!existsSync(input.datasetDir) || !statSync(input.datasetDir).isDirectory()) {
    throw new RunRejected([`dataset folder ${input.datasetDir} does not exist`]);
  }
  let examples: Partial<Record<TaskName, EmtExample[]>>;
  try {
    const shards = checkShards(recipe, () => listFilesUnder(input.datasetDir));
    examples = await readEmtShards(input.datasetDir, shards, { split: 'train' });
  } catch (err) {
    rejectFrom(err);
  }
  const counts: TaskCounts = {};
  for (const [t, list] of Object.entries(examples) as [TaskName, EmtExample[]][]) counts[t] = list.length;
  let pretraining: StagePlan[] = [];
  let stages: StagePlan[];
  try {
    const pre = pretrainingRecipe(recipe, counts);
    if (pre) pretraining = planStages(pre, counts);
    stages = planStages(recipe, counts);
  } catch (err) {
    rejectFrom(err);
  }
  if (baseCheckpoint) checkBaseCheckpoint(baseCheckpoint, recipe.model.base);
  const pretrainingSteps = totalOf(pretraining);
  return {
    plan: {
      recipe,
      datasetDir: input.datasetDir,
      counts,
      pretraining,
      stages,
      pretrainingSteps,
      totalSteps: pretrainingSteps + totalOf(stages),
      baseCheckpoint,
    },
    examples,
  };
}
