// The M2SE recipe: stages, task sampling, dynamic loss weights, warm-up + cosine schedules

export {
  createLossWeighting,
  exampleLossScales,
  type LossWeighting,
  type LossWeightingState,
  type TaskWeights,
  weightedLoss,
} from './private/loss-weighting.js';
export { type LrSchedule, learningRate, stageLrSchedule } from './private/lr-schedule.js';
export {
  type LoraConfig,
  type LossWeightingConfig,
  parseRecipe,
  RATE_SUM_TOLERANCE,
  type Recipe,
  RecipeError,
  type RecipeInput,
  RecipeSchema,
  recipeTasks,
  type Stage,
  stageTasks,
  validateRecipe,
} from './private/recipe.js';
export {
  loadRecipeFile,
  loadShippedRecipe,
  SHIPPED_RECIPES,
  type ShippedRecipeName,
  shippedRecipePath,
  smokeRecipe,
} from './private/recipe-files.js';
export {
  EXPERIMENTS,
  type ExperimentName,
  parseResultsTable,
  type ResultRow,
  renderResultsTable,
  upsertResultRows,
  writeResultRows,
} from './private/results-table.js';
export { hashSeed, permutation, Rng } from './private/rng.js';
export {
  DataIterator,
  type ExampleSource,
  type IteratorState,
  type MicroBatch,
  type SampleRef,
  TaskSampler,
} from './private/sampler.js';
export { checkShards, globToRegExp, listFilesUnder, resolveShards, shardPatterns } from './private/shards.js';
export { allocateQuotas, planStages, type StagePlan, type TaskCounts } from './private/stage-plan.js';
export { canonicalTaskOrder, isTaskName, TASKS, type TaskName } from './private/tasks.js';
