// The decoder-only transformer that Llama, Phi-3 and Qwen2 share (pre-norm RMSNorm blocks,
// RoPE, GQA, SwiGLU MLP). Each architecture file says only what differs: its tensor names,
// fused or separate projections, biases, tied embeddings.
import type { Dim, Tensor } from '@emoverse/onnx';
import type { DecoderConfig } from './config.js';
import { attention, type Ctx, type KvPast, linear, rmsNorm, ropeForPositions } from './layers.js';
import type { WeightSpec } from './weights.js';

export interface DecoderArchitecture {
  /** Every tensor the checkpoint must hold for this config, HF names and shapes. */
  weightSpec(c: DecoderConfig): WeightSpec;
  /** Linear modules of the model, path -> [out, in] (LoRA targets are picked from these). */
  linearModules(c: DecoderConfig): Map<string, [number, number]>;
  /** q [B,S,H*D], k and v [B,S,kvH*D] for layer i from the normed hidden state. */
  qkv(ctx: Ctx, c: DecoderConfig, prefix: string, h: Tensor): { q: Tensor; k: Tensor; v: Tensor };
  /** gate and up projections [B,S,I] */
  gateUp(ctx: Ctx, c: DecoderConfig, prefix: string, h: Tensor): { gate: Tensor; up: Tensor };
}

export interface DecoderInputs {
  /** token (or composed multimodal) embeddings [B, S, hidden] */
  embeds: Tensor;
  /** position of each token [B, S] int64 (left padding makes these differ per row) */
  positionIds: Tensor;
  /** additive attention bias [B, 1, 1, S, T] built for the total key length T */
  bias: (totalDim: Dim) => Tensor;
  /** per-layer K/V cache of earlier tokens */
  past?: KvPast[];
  /** how `past` is laid out and updated (layers.ts attention) */
  pastLayout?: 'concat' | 'slots';
}

export function embedTokens(ctx: Ctx, inputIds: Tensor): Tensor {
  return ctx.g.gather(ctx.p.get('model.embed_tokens.weight'), inputIds);
}

/** Runs the stack; returns the final-normed hidden state and each layer's K/V (cache + new). */
export function decoderStack(
  ctx: Ctx,
  c: DecoderConfig,
  arch: DecoderArchitecture,
  inp: DecoderInputs,
): { hidden: Tensor; presents: KvPast[] } {
  const { g } = ctx;
  const rope = ropeForPositions(
    g,
    inp.positionIds,
    c.maxPositions,
    Math.round(c.headDim * c.rotaryFraction),
    c.ropeTheta,
  );
  let x = inp.embeds;
  let bias: Tensor | undefined;
  const presents: KvPast[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const prefix = `model.layers.${i}`;
    x = g.scope(`layer${i}`, () => {
      const h = rmsNorm(ctx, x, `${prefix}.input_layernorm.weight`, c.rmsNormEps);
      const { q, k, v } = arch.qkv(ctx, c, prefix, h);
      const a = attention(g, q, k, v, {
        heads: c.numHeads,
        kvHeads: c.numKvHeads,
        headDim: c.headDim,
        rope,
        past: inp.past?.[i],
        pastLayout: inp.pastLayout,
        // the bias input is made once, when the first layer knows the total key length
        bias: (T) => {
          bias ??= inp.bias(T);
          return bias;
        },
      });
      presents.push(a.present);
      const r1 = g.add(x, linear(ctx, a.out, `${prefix}.self_attn.o_proj`, c.oBias));
      const h2 = rmsNorm(ctx, r1, `${prefix}.post_attention_layernorm.weight`, c.rmsNormEps);
      const { gate, up } = arch.gateUp(ctx, c, prefix, h2);
      return g.add(r1, linear(ctx, g.mul(g.silu(gate), up), `${prefix}.mlp.down_proj`, c.mlpBias));
    });
  }
  return { hidden: rmsNorm(ctx, x, 'model.norm.weight', c.rmsNormEps), presents };
}

/** hidden [.., hidden] -> logits [.., vocab]; tied models reuse the embedding matrix. */
export function lmHead(ctx: Ctx, c: DecoderConfig, hidden: Tensor): Tensor {
  const w = ctx.p.get(c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  return ctx.g.matmul(hidden, ctx.g.transpose(w, [1, 0]));
}

/** Tensors every Llama-family checkpoint has besides the per-layer projections. */
export function commonDecoderSpec(c: DecoderConfig): WeightSpec {
  const s: WeightSpec = new Map();
  s.set('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]);
  s.set('model.norm.weight', [c.hiddenSize]);
  if (!c.tieWordEmbeddings) s.set('lm_head.weight', [c.vocabSize, c.hiddenSize]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    s.set(`${p}.input_layernorm.weight`, [c.hiddenSize]);
    s.set(`${p}.post_attention_layernorm.weight`, [c.hiddenSize]);
    s.set(`${p}.self_attn.o_proj.weight`, [c.hiddenSize, c.numHeads * c.headDim]);
    if (c.oBias) s.set(`${p}.self_attn.o_proj.bias`, [c.hiddenSize]);
    s.set(`${p}.mlp.down_proj.weight`, [c.hiddenSize, c.intermediateSize]);
    if (c.mlpBias) s.set(`${p}.mlp.down_proj.bias`, [c.hiddenSize]);
  }
  return s;
}

/** Adds `[out, in]` linear weights (and biases) to spec and to the module list. */
export function addLinear(
  spec: WeightSpec,
  modules: Map<string, [number, number]> | undefined,
  path: string,
  out: number,
  inp: number,
  bias: boolean,
): void {
  spec.set(`${path}.weight`, [out, inp]);
  if (bias) spec.set(`${path}.bias`, [out]);
  modules?.set(path, [out, inp]);
}

export function linearModulesFromSpec(spec: WeightSpec): Map<string, [number, number]> {
  const m = new Map<string, [number, number]>();
  for (const [name, shape] of spec) {
    if (shape.length === 2 && name.endsWith('_proj.weight'))
      m.set(name.slice(0, -'.weight'.length), [shape[0], shape[1]]);
  }
  return m;
}
