// Serving logic for the gateway, independent of gRPC and of any particular model:
// dynamic batching with admission control, the adapter LRU, hot-swappable model versions,
// input validation, the task prompts and constrained classification.

export { DEFAULT_LOOP, type GenerationLoopOptions } from '@emoverse/models';
export { AdapterCache, type AdapterCacheOptions } from './private/adapter-cache.js';
export {
  type AnalysedMedia,
  type AnalysisContext,
  type AnalysisPart,
  type AnalysisRequest,
  type AnalysisResult,
  analyzeUtterance,
  type CauseOfTarget,
  checkAnalysisRequest,
  type LabelScores,
  type StageTiming,
} from './private/analysis.js';
export {
  type BatcherOptions,
  type BatchInfo,
  DynamicBatcher,
  type SubmitOptions,
} from './private/batcher.js';
export {
  CALIBRATION_FILE,
  type Calibration,
  labelOffsets,
  parseCalibration,
  readCalibration,
} from './private/calibration.js';
export { type Classification, classify } from './private/classify.js';
export {
  createTaskModel,
  EMOVERSE_MODEL_MODULE,
  type EmoVerseModelOptions,
  EmoVerseTaskModel,
  loadBase,
} from './private/emoverse-model.js';
export {
  type EngineOptions,
  type EngineRequest,
  type LoadedModel,
  loadedModel,
  TaskEngine,
  type TaskResult,
} from './private/engine.js';
export {
  ExhaustedError,
  invalidArgument,
  isServingError,
  notFound,
  ServingError,
  type ServingErrorCode,
} from './private/errors.js';
/** A deterministic keyword model for tests of the serving path (not a language model). */
export { ModelHolder, type ModelHolderOptions } from './private/model-holder.js';
export {
  detectTask,
  EMOTION_LABELS,
  ecpePrompt,
  emotionPrompt,
  emotionReasonPrompt,
  facialExpressionPrompt,
  labelAnswer,
  parseEcpeQuery,
  parseEmotionQuery,
  parseSentimentQuery,
  SENTIMENT_LABELS,
  sentimentPrompt,
  TASKS,
  type Task,
} from './private/prompts.js';
export {
  evaluateSwift,
  parseSwiftRecords,
  type SwiftClient,
  type SwiftEvalOptions,
  type SwiftEvalReport,
  type SwiftMedia,
  type SwiftRecord,
  type SwiftRow,
} from './private/swift-eval.js';
export {
  dedupePairs,
  type EcpeFlowResult,
  ecpeConversation,
  ecpeTargets,
  emotionCausePairsFlow,
  emotionReasonFlow,
  type FlowContext,
  facialExpressionFlow,
  labelConversation,
  type TaskSpan,
  taskPrompt,
} from './private/task-flows.js';
export {
  type GenerateOptions,
  type Generation,
  type GenerationStats,
  type ModelInput,
  sumGenerationStats,
  type TaskModel,
} from './private/task-model.js';
export {
  checkImage,
  checkText,
  checkVideo,
  DEFAULT_LIMITS,
  decodeUtf8,
  type ImageFormat,
  type InputLimits,
  type MediaInput,
  SUPPORTED_IMAGE_FORMATS,
  sniffImageFormat,
  sniffVideoFormat,
  type TaskInput,
  type Turn,
  type VideoFormat,
  validateTaskInput,
} from './private/validation.js';
export {
  clipVisualTokens,
  faceFeatureFrames,
  type ScoredClip,
  type ScoredFace,
} from './private/visual-tokens.js';
export { WorkerTaskModel } from './private/worker-model.js';
