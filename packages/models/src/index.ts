// Llama, Phi-3, Qwen2, SigLIP, CLIP, the EmoVerse composition, LoRA, tokenizers and generation on the engine

export { forwardFeeds, lossFeeds, padRight, type TextBatch } from './private/batch.js';
// --- tokenizers, images
export { type BpeOptions, trainByteLevelBpe } from './private/bpe.js';
// --- configs, weights, architectures
export {
  ConfigError,
  type DecoderArch,
  type DecoderConfig,
  type ModelConfig,
  parseConfig,
  type VisionArch,
  type VisionConfig,
  visionTokenCount,
} from './private/config.js';
// --- generation
export type {
  DecodeLoop,
  DecodeLoopOptions,
  DecodeLoopStats,
  SequenceRequest,
  SequenceResult,
} from './private/continuous.js';
export {
  EmoVerseModel,
  type EmoVerseParts,
  FACE_FEATURE_DIM,
  FACE_FEATURES,
  faceFrameFeatures,
  type VisualEncoder,
  visualIndex,
  visualTokensFromFrames,
} from './private/emoverse.js';
// --- the high-level model (trainer and gateway)
export {
  DEFAULT_LOOP,
  EmoVerseLM,
  type EmoVerseLMParts,
  type Example,
  type GenerationLoopOptions,
  hfConfig,
  type ScoreResult,
  type TrainExample,
} from './private/emoverse-lm.js';
export { type ExtraFeeds, type GenerateOptions, type GenerateResult, Generator } from './private/generate.js';
export {
  CLIP_IMAGE,
  type ImageProcessorConfig,
  imageProcessorFromHf,
  preprocessImage,
  type RgbImage,
  SIGLIP_IMAGE,
} from './private/image.js';
export { buildLm, buildLmGraph, DecoderModel, type LmGraph, type LmGraphOptions } from './private/lm.js';
// --- LoRA and PEFT
export {
  adapterFromTensors,
  initLora,
  type LoraInGraph,
  loraModules,
  loraTensors,
  mergeLora,
} from './private/lora.js';
export { causalBias, MASKED, paddingBias, positionIdsFromMask } from './private/masks.js';
export { ADAPTER_FILES, MODEL_FILES } from './private/model-files.js';
export {
  DEFAULT_LORA,
  isTarget,
  type LoraAdapter,
  type LoraPair,
  type LoraSettings,
  loraScale,
  readPeftAdapter,
  writePeftAdapter,
} from './private/peft.js';
export type { PrefixCacheStats } from './private/prefix-cache.js';
// --- presets
export {
  countParams,
  decoderSpec,
  EMOVERSE_4B_LIKE,
  EMOVERSE_8B_LIKE,
  NANO_CHAT_TEMPLATE,
  NANO_SIZE,
  NANO_SPECIAL_TOKENS,
  type NanoSize,
  nanoPreset,
  type Preset,
  presetParams,
  randomWeights,
} from './private/presets.js';
export {
  argmax,
  penalizeRepetition,
  type SamplingOptions,
  sampleToken,
  seededRandom,
} from './private/sampling.js';
export { GraphSession } from './private/session.js';
export { causalLmTargets, type LossTargets, perExampleLoss } from './private/targets.js';
export { type ChatMessage, DEFAULT_CHAT_TEMPLATE, TextTokenizer } from './private/tokenizer.js';
export {
  buildLmTrainStep,
  LmTrainer,
  type LmTrainStep,
  type TrainOptions,
  type TrainStepResult,
} from './private/train.js';
export { VisionModel } from './private/vision.js';
export {
  checkpointSource,
  checkWeights,
  mapSource,
  WeightError,
  type WeightSource,
  type WeightSpec,
} from './private/weights.js';
