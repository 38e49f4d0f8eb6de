// CLIP vision tower: a class token before the patches (conv without bias), position embeddings
// for all N+1 tokens, pre_layrnorm (HF's spelling), the encoder. last_hidden_state is the raw
// encoder output; pooler_output is post_layernorm of the class token.
import type { Tensor } from '@emoverse/onnx';
import type { VisionConfig } from './config.js';
import { type Ctx, layerNorm } from './layers.js';
import { encoder, encoderSpec, patchEmbed } from './vit.js';
import type { WeightSpec } from './weights.js';

export function clipSpec(c: VisionConfig): WeightSpec {
  const s: WeightSpec = new Map();
  const D = c.hiddenSize;
  const n = (c.imageSize / c.patchSize) ** 2;
  s.set('embeddings.class_embedding', [D]);
  s.set('embeddings.patch_embedding.weight', [D, c.numChannels, c.patchSize, c.patchSize]);
  s.set('embeddings.position_embedding.weight', [n + 1, D]);
  s.set('pre_layrnorm.weight', [D]);
  s.set('pre_layrnorm.bias', [D]);
  encoderSpec(c, s);
  s.set('post_layernorm.weight', [D]);
  s.set('post_layernorm.bias', [D]);
  return s;
}

export function clipForward(
  ctx: Ctx,
  c: VisionConfig,
  pixels: Tensor,
): { last: Tensor; penultimate: Tensor; pooled: Tensor } {
  const { g, p } = ctx;
  const patches = patchEmbed(ctx, c, pixels, false);
  // class token [1, 1, D] broadcast to [B, 1, D] by adding zeros shaped like the first patch
  const cls = g.add(
    g.mul(g.slice(patches, [0], [1], [1]), 0),
    g.reshape(p.get('embeddings.class_embedding'), [1, 1, c.hiddenSize]),
  );
  const x0 = g.add(g.concat([cls, patches], 1), p.get('embeddings.position_embedding.weight'));
  const x = layerNorm(ctx, x0, 'pre_layrnorm', c.layerNormEps);
  const states = encoder(ctx, c, x);
  const last = states[states.length - 1];
  const penultimate = states.length >= 2 ? states[states.length - 2] : x;
  const pooled = layerNorm(
    ctx,
    g.squeeze(g.slice(last, [0], [1], [1]), [1]),
    'post_layernorm',
    c.layerNormEps,
  );
  return { last, penultimate, pooled };
}
