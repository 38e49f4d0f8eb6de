// SigLIP vision tower: patches (conv with bias) + learned position embeddings, the encoder, and
// post_layernorm on every token (last_hidden_state). The optional attention-pooling head
// (a learned probe attending over the tokens) gives pooler_output.
import type { Tensor } from '@emoverse/onnx';
import type { VisionConfig } from './config.js';
import { attention, type Ctx, layerNorm, linear } from './layers.js';
import { activation, encoder, encoderSpec, patchEmbed } from './vit.js';
import type { WeightSpec } from './weights.js';

export function siglipSpec(c: VisionConfig, withHead: boolean): WeightSpec {
  const s: WeightSpec = new Map();
  const D = c.hiddenSize;
  const n = (c.imageSize / c.patchSize) ** 2;
  s.set('embeddings.patch_embedding.weight', [D, c.numChannels, c.patchSize, c.patchSize]);
  s.set('embeddings.patch_embedding.bias', [D]);
  s.set('embeddings.position_embedding.weight', [n, D]);
  encoderSpec(c, s);
  s.set('post_layernorm.weight', [D]);
  s.set('post_layernorm.bias', [D]);
  if (withHead) {
    s.set('head.probe', [1, 1, D]);
    s.set('head.attention.in_proj_weight', [3 * D, D]);
    s.set('head.attention.in_proj_bias', [3 * D]);
    s.set('head.attention.out_proj.weight', [D, D]);
    s.set('head.attention.out_proj.bias', [D]);
    s.set('head.layernorm.weight', [D]);
    s.set('head.layernorm.bias', [D]);
    s.set('head.mlp.fc1.weight', [c.intermediateSize, D]);
    s.set('head.mlp.fc1.bias', [c.intermediateSize]);
    s.set('head.mlp.fc2.weight', [D, c.intermediateSize]);
    s.set('head.mlp.fc2.bias', [D]);
  }
  return s;
}

export function siglipForward(
  ctx: Ctx,
  c: VisionConfig,
  pixels: Tensor,
  withHead: boolean,
): { last: Tensor; penultimate: Tensor; pooled?: Tensor } {
  const { g, p } = ctx;
  const x = g.add(patchEmbed(ctx, c, pixels, true), p.get('embeddings.position_embedding.weight'));
  const states = encoder(ctx, c, x);
  const last = layerNorm(ctx, states[states.length - 1], 'post_layernorm', c.layerNormEps);
  const penultimate = states.length >= 2 ? states[states.length - 2] : x;
  return { last, penultimate, pooled: withHead ? attentionPool(ctx, c, last) : undefined };
}

/** SiglipMultiheadAttentionPoolingHead: the probe attends over the tokens, then LN + MLP residual. */
function attentionPool(ctx: Ctx, c: VisionConfig, h: Tensor): Tensor {
  const { g, p } = ctx;
  const D = c.hiddenSize;
  const [wq, wk, wv] = g.split(p.get('head.attention.in_proj_weight'), [D, D, D], 0);
  const [bq, bk, bv] = g.split(p.get('head.attention.in_proj_bias'), [D, D, D], 0);
  const proj = (x: Tensor, w: Tensor, b: Tensor) => g.add(g.matmul(x, g.transpose(w, [1, 0])), b);
  const probe = p.get('head.probe'); // [1, 1, D]
  const k = proj(h, wk, bk);
  const v = proj(h, wv, bv);
  // the probe query is the same for every image: give it the batch dim by adding zeros shaped like h[:, :1]
  const zeros = g.mul(g.slice(h, [0], [1], [1]), 0);
  const qb = proj(g.add(zeros, probe), wq, bq);
  const a = attention(g, qb, k, v, { heads: c.numHeads, kvHeads: c.numHeads, headDim: D / c.numHeads });
  const out = linear(ctx, a.out, 'head.attention.out_proj', true);
  const n = layerNorm(ctx, out, 'head.layernorm', c.layerNormEps);
  const m = linear(ctx, activation(ctx, c, linear(ctx, n, 'head.mlp.fc1', true)), 'head.mlp.fc2', true);
  return g.squeeze(g.add(out, m), [1]);
}
