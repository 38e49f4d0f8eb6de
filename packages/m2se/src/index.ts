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
  type PretrainingConfig,
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
  pretrainingRecipe,
  restrictToTasks,
  SHIPPED_RECIPES,
  type ShippedRecipeName,
  shippedRecipePath,
  smokeRecipe,
} from './private/recipe-files.js';
export {
  EXPERIMENTS,
  type ExperimentName,
  METRIC_KEYS,
  type MetricKey,
  type MetricSummary,
  meanSd,
  parseResultsTable,
  type ResultRow,
  renderResultsTable,
  renderSeededTable,
  type SeededRow,
  type SeededTableOptions,
  upsertResultRows,
  writeFileAtomic,
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
export { BigramEngine, type BigramOptions, byteTokenizer } from './private/train/bigram-engine.js';
export {
  BlobCheckpointStore,
  type BlobStore,
  type Checkpoint,
  type CheckpointStore,
  DirectoryCheckpointStore,
  decodeTensors,
  encodeTensors,
  MemoryBlobStore,
} from './private/train/checkpoint-store.js';
export {
  type CollatedBatch,
  chatTemplateFormat,
  collate,
  cutPrompt,
  DEFAULT_PROMPT_FORMAT,
  type EncodedExample,
  encodeExample,
  IGNORE_INDEX,
  PROMPT_HEAD_SHARE,
  type PromptFormat,
  type Tokenizer,
} from './private/train/encode.js';
export type { NamedTensors, TrainBatch, TrainEngine } from './private/train/engine.js';
export {
  type EmtExample,
  readEmtShards,
  readPaperFormatSamples,
  taskFromRecord,
} from './private/train/examples.js';
export {
  type LmTextBatch,
  type LmTrainerEngineOptions,
  type LmTrainerLike,
  lmTrainerEngine,
  type VisualFeatures,
} from './private/train/lm-trainer-engine.js';
export {
  lossCurveData,
  type StepLog,
  type StepProgress,
  type TrainOptions,
  type TrainResult,
  train,
} from './private/train/loop.js';
export {
  type LmTrainerOptions,
  lmTrainerOptions,
  pretrainingExamples,
  type RecipeModel,
  type RecipePhase,
  type RecipeTrainer,
  type TrainerOf,
  type TrainRecipeOptions,
  type TrainRecipeResult,
  trainRecipe,
} from './private/train/recipe-run.js';
