// Llama, Phi-3, Qwen2, SigLIP, CLIP, the EmoVerse composition, LoRA, tokenizers and generation on the engine
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
export {
  CLIP_IMAGE,
  type ImageProcessorConfig,
  imageProcessorFromHf,
  preprocessImage,
  type RgbImage,
  SIGLIP_IMAGE,
} from './private/image.js';
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
export { type ChatMessage, DEFAULT_CHAT_TEMPLATE, TextTokenizer } from './private/tokenizer.js';
