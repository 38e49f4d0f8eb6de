// Named model presets. emoverse-nano is small enough to train from scratch on 2 CPU cores in
// minutes; its visual tokens are per-frame face features (see emoverse.ts). The paper-shaped
// presets exist as configurations only (their weights are not available offline).
import type { DecoderConfig, VisionConfig } from './config.js';
import { parseConfig } from './config.js';
import { FACE_FEATURE_DIM } from './emoverse.js';
import { DECODER_ARCHITECTURES } from './lm.js';
import { seededRandom } from './sampling.js';
import { siglipSpec } from './siglip.js';
import { mapSource, type WeightSource, type WeightSpec } from './weights.js';

export interface Preset {
  name: string;
  description: string;
  /** HF config.json of the LLM */
  llm: Record<string, unknown>;
  encoder: { kind: 'face-features'; dim: number } | { kind: 'vit'; vision: Record<string, unknown> };
  /** visual tokens per example: frames (face features) or patches (ViT) */
  visualTokens: number;
  imageToken: string;
}

/** Special tokens of presets whose tokenizer is made here (bpe.ts). */
export const NANO_SPECIAL_TOKENS = [
  '<|pad|>',
  '<|bos|>',
  '<|eos|>',
  '<|image|>',
  '<|system|>',
  '<|user|>',
  '<|assistant|>',
];

export const NANO_CHAT_TEMPLATE =
  '{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% if m.role == "assistant" %}{{ eos_token }}{% endif %}{% endfor %}' +
  '{% if add_generation_prompt %}<|assistant|>{% endif %}';

/** The decoder's shape of a nano preset: the default is 4 layers x 128 wide. */
export interface NanoSize {
  hidden: number;
  layers: number;
  /** attention heads of 32 dimensions each; KV heads are half of them (grouped-query attention) */
  heads: number;
  /** SwiGLU width (3 x hidden by default) */
  intermediate?: number;
}

export const NANO_SIZE: NanoSize = { hidden: 128, layers: 4, heads: 4 };

export function nanoPreset(vocabSize: number, frames = 8, size: NanoSize = NANO_SIZE): Preset {
  return {
    name: 'emoverse-nano',
    description: `Llama-shaped ${size.layers} x ${size.hidden} decoder + face-feature visual tokens; trains from scratch on CPU`,
    llm: {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: vocabSize,
      hidden_size: size.hidden,
      intermediate_size: size.intermediate ?? 3 * size.hidden,
      num_hidden_layers: size.layers,
      num_attention_heads: size.heads,
      num_key_value_heads: Math.max(1, size.heads / 2),
      head_dim: size.hidden / size.heads,
      max_position_embeddings: 512,
      rms_norm_eps: 1e-5,
      rope_parameters: { rope_type: 'default', rope_theta: 10000 },
      hidden_act: 'silu',
      tie_word_embeddings: true,
      attention_bias: false,
      mlp_bias: false,
      pad_token_id: 0,
      bos_token_id: 1,
      eos_token_id: 2,
      torch_dtype: 'float32',
    },
    encoder: { kind: 'face-features', dim: FACE_FEATURE_DIM },
    visualTokens: frames,
    imageToken: '<|image|>',
  };
}

/** EmoVerse-4B's shape: Phi-3-mini (3.8B) with a SigLIP-so400m-like tower at 384 px. Config only. */
export const EMOVERSE_4B_LIKE: Preset = {
  name: 'emoverse-4b-like',
  description: 'Phi-3-mini-4k decoder + SigLIP-so400m-like vision tower (configuration only)',
  llm: {
    architectures: ['Phi3ForCausalLM'],
    model_type: 'phi3',
    vocab_size: 32064,
    hidden_size: 3072,
    intermediate_size: 8192,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 32,
    max_position_embeddings: 4096,
    original_max_position_embeddings: 4096,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 32000,
    pad_token_id: 32000,
  },
  encoder: {
    kind: 'vit',
    vision: {
      architectures: ['SiglipVisionModel'],
      model_type: 'siglip_vision_model',
      hidden_size: 1152,
      intermediate_size: 4304,
      num_hidden_layers: 27,
      num_attention_heads: 16,
      image_size: 384,
      patch_size: 14,
      hidden_act: 'gelu_pytorch_tanh',
      layer_norm_eps: 1e-6,
    },
  },
  visualTokens: 729,
  imageToken: '<|image|>',
};

/**
 * EmoVerse-8B's LLM shape: InternLM2.5-7B (GQA 32/8, rope_theta 1e6, vocab 92544) expressed in
 * the Llama layout (InternLM2's wqkv/w1-w3 are the same maths under other names); its vision
 * side is an InternViT-300M-like tower at 448 px. Configuration only.
 */
export const EMOVERSE_8B_LIKE: Preset = {
  name: 'emoverse-8b-like',
  description:
    'InternLM2.5-7B-shaped decoder (Llama layout) + InternViT-300M-like tower at 448 px (configuration only)',
  llm: {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 92544,
    hidden_size: 4096,
    intermediate_size: 14336,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    max_position_embeddings: 32768,
    rms_norm_eps: 1e-5,
    rope_theta: 1000000,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 2,
  },
  encoder: {
    kind: 'vit',
    vision: {
      architectures: ['SiglipVisionModel'],
      model_type: 'siglip_vision_model',
      hidden_size: 1024,
      intermediate_size: 4096,
      num_hidden_layers: 24,
      num_attention_heads: 16,
      image_size: 448,
      patch_size: 14,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-6,
    },
  },
  visualTokens: 1024,
  imageToken: '<|image|>',
};

export function decoderSpec(cfg: DecoderConfig): WeightSpec {
  return DECODER_ARCHITECTURES[cfg.arch].weightSpec(cfg);
}

export function countParams(spec: WeightSpec): number {
  let n = 0;
  for (const s of spec.values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** Parameter counts of a preset: LLM, vision tower (if a ViT), projector. */
export function presetParams(p: Preset): { llm: number; vision: number; projector: number; total: number } {
  const llm = parseConfig(p.llm) as DecoderConfig;
  const llmN = countParams(decoderSpec(llm));
  let vision = 0;
  let dv: number;
  if (p.encoder.kind === 'vit') {
    const v = parseConfig(p.encoder.vision) as VisionConfig;
    vision = countParams(siglipSpec(v, false));
    dv = v.hiddenSize;
  } else {
    dv = p.encoder.dim;
  }
  const projector = llm.hiddenSize * dv + llm.hiddenSize;
  return { llm: llmN, vision, projector, total: llmN + vision + projector };
}

/** Normal(0, std) numbers from a seeded generator (Box-Muller). */
export function normalInit(n: number, std: number, random: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(random(), 1e-12);
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Random weights as transformers initialises them: N(0, 0.02) matrices, norm weights 1, biases 0. */
export function randomWeights(spec: WeightSpec, seed = 0, std = 0.02): WeightSource {
  const random = seededRandom(seed);
  const m = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of spec) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (shape.length >= 2) data = normalInit(n, std, random);
    else if (/norm|layernorm/.test(name) && name.endsWith('.weight')) data = new Float32Array(n).fill(1);
    else data = new Float32Array(n);
    m.set(name, { shape, data });
  }
  return mapSource(m);
}
