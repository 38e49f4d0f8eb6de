// Hugging Face config.json -> the few numbers our graphs need. Every architecture we build is
// named here; anything else is refused up front with the list of what is supported.

export type DecoderArch = 'llama' | 'phi3' | 'qwen2';
export type VisionArch = 'siglip' | 'clip';

export interface DecoderConfig {
  kind: 'decoder';
  arch: DecoderArch;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Grouped-query attention: numHeads / numKvHeads query heads share one K/V head. */
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Share of each head's dims that RoPE rotates (Phi-3's partial_rotary_factor); 1 = all. */
  rotaryFraction: number;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  /** Bias on q/k/v projections (Qwen2 always; Llama when attention_bias). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama attention_bias puts it on o_proj too). */
  oBias: boolean;
  mlpBias: boolean;
  bosTokenId?: number;
  eosTokenIds: number[];
  padTokenId?: number;
}

export interface VisionConfig {
  kind: 'vision';
  arch: VisionArch;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  imageSize: number;
  patchSize: number;
  numChannels: number;
  layerNormEps: number;
  hiddenAct: 'gelu_pytorch_tanh' | 'gelu' | 'quick_gelu';
}

export type ModelConfig = DecoderConfig | VisionConfig;

const DECODERS: Record<string, DecoderArch> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'llama',
  Phi3ForCausalLM: 'phi3',
  Qwen2ForCausalLM: 'qwen2',
  llama: 'llama',
  mistral: 'llama',
  phi3: 'phi3',
  qwen2: 'qwen2',
};
const VISION: Record<string, VisionArch> = {
  SiglipVisionModel: 'siglip',
  CLIPVisionModel: 'clip',
  siglip_vision_model: 'siglip',
  clip_vision_model: 'clip',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Json = Record<string, unknown>;

function num(cfg: Json, key: string, fallback?: number): number {
  const v = cfg[key];
  if (typeof v === 'number') return v;
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`config.json: required field ${key} is missing`);
  }
  throw new ConfigError(`config.json: field ${key} should be a number, got ${JSON.stringify(v)}`);
}

/** Parses a config.json object (a full CLIP/SigLIP config is reduced to its vision_config). */
export function parseConfig(raw: Json): ModelConfig {
  const archs = (raw.architectures as string[] | undefined) ?? [];
  const modelType = String(raw.model_type ?? '');
  if ((modelType === 'clip' || modelType === 'siglip') && raw.vision_config) {
    return parseVision(raw.vision_config as Json, modelType);
  }
  const decoder = archs.map((a) => DECODERS[a]).find(Boolean) ?? DECODERS[modelType];
  if (decoder) return parseDecoder(raw, decoder);
  const vision = archs.map((a) => VISION[a]).find(Boolean) ?? VISION[modelType];
  if (vision) return parseVision(raw, vision);
  throw new ConfigError(
    `unknown architecture ${JSON.stringify(archs.length ? archs : modelType)}: supported are ` +
      `${[...Object.keys(DECODERS), ...Object.keys(VISION)].filter((k) => /[A-Z]/.test(k)).join(', ')}`,
  );
}

function parseDecoder(c: Json, arch: DecoderArch): DecoderConfig {
  const hiddenSize = num(c, 'hidden_size');
  const numHeads = num(c, 'num_attention_heads');
  const numKvHeads = num(c, 'num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ConfigError(
      `config.json: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`,
    );
  }
  // transformers 5 moved rope_theta into rope_parameters; older configs have it at the top level.
  const rope = (c.rope_parameters ?? c.rope_scaling ?? {}) as Json;
  const ropeType = String(rope.rope_type ?? rope.type ?? 'default');
  if (ropeType !== 'default') {
    throw new ConfigError(`config.json: rope_type ${ropeType} is not supported (only default RoPE)`);
  }
  const ropeTheta = num(rope, 'rope_theta', num(c, 'rope_theta', 10000));
  const rotaryFraction = num(rope, 'partial_rotary_factor', num(c, 'partial_rotary_factor', 1));
  const act = String(c.hidden_act ?? 'silu');
  if (act !== 'silu')
    throw new ConfigError(`config.json: hidden_act ${act} is not supported (SwiGLU needs silu)`);
  const eos = c.eos_token_id;
  const attentionBias = c.attention_bias === true;
  return {
    kind: 'decoder',
    arch,
    vocabSize: num(c, 'vocab_size'),
    hiddenSize,
    intermediateSize: num(c, 'intermediate_size'),
    numLayers: num(c, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim: num(c, 'head_dim', hiddenSize / numHeads),
    rmsNormEps: num(c, 'rms_norm_eps', 1e-6),
    ropeTheta,
    rotaryFraction,
    maxPositions: num(c, 'max_position_embeddings', 4096),
    tieWordEmbeddings: c.tie_word_embeddings === true,
    qkvBias: arch === 'qwen2' || attentionBias,
    oBias: arch === 'llama' && attentionBias,
    mlpBias: arch === 'llama' && c.mlp_bias === true,
    bosTokenId: typeof c.bos_token_id === 'number' ? c.bos_token_id : undefined,
    eosTokenIds: Array.isArray(eos) ? (eos as number[]) : typeof eos === 'number' ? [eos] : [],
    padTokenId: typeof c.pad_token_id === 'number' ? c.pad_token_id : undefined,
  };
}

function parseVision(c: Json, arch: VisionArch | string): VisionConfig {
  const a: VisionArch = arch === 'clip' ? 'clip' : 'siglip';
  const act = String(c.hidden_act ?? (a === 'clip' ? 'quick_gelu' : 'gelu_pytorch_tanh'));
  if (act !== 'gelu_pytorch_tanh' && act !== 'gelu' && act !== 'quick_gelu') {
    throw new ConfigError(`config.json: hidden_act ${act} is not supported for vision towers`);
  }
  return {
    kind: 'vision',
    arch: a,
    hiddenSize: num(c, 'hidden_size', 768),
    intermediateSize: num(c, 'intermediate_size', 3072),
    numLayers: num(c, 'num_hidden_layers', 12),
    numHeads: num(c, 'num_attention_heads', 12),
    imageSize: num(c, 'image_size', 224),
    patchSize: num(c, 'patch_size', a === 'clip' ? 32 : 16),
    numChannels: num(c, 'num_channels', 3),
    layerNormEps: num(c, 'layer_norm_eps', a === 'clip' ? 1e-5 : 1e-6),
    hiddenAct: act,
  };
}

/** Number of visual tokens a vision tower emits per image (CLIP adds its class token). */
export function visionTokenCount(v: VisionConfig): number {
  const n = (v.imageSize / v.patchSize) ** 2;
  return v.arch === 'clip' ? n + 1 : n;
}
