// npm run demo: the whole EmoVerse pipeline on a local stack (nats-server + the five services), with
// progress bars, traces and a markdown report. The CI end-to-end test runs runDemo on the quick profile.
export type { DatasetResult } from './private/dataset.js';
export type { EvalRow, EvaluationResult } from './private/evaluation.js';
export {
  type DemoOptions,
  type DemoProfile,
  defaultOutDir,
  PROFILES,
  type SampleVideo,
} from './private/options.js';
export { type Progress, type ProgressWriter, progress } from './private/progress.js';
export type { StageTiming } from './private/report.js';
export { type DemoResult, runDemo } from './private/run.js';
export type { ServingResult, TaskAnswer } from './private/serving.js';
export {
  type LocalStack,
  type LocalStackOptions,
  SERVICE_NAMES,
  type ServiceName,
  startLocalStack,
} from './private/stack.js';
export type { TrainingResult } from './private/training.js';
export type { VideoResult } from './private/vision.js';
