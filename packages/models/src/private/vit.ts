// The ViT encoder that SigLIP and CLIP share: patch embedding (a strided convolution, written
// here as reshape + matmul so it needs no Conv and stays differentiable), position embeddings,
// pre-LN transformer blocks with biased attention and a GELU MLP.
import type { Tensor } from '@emoverse/onnx';
import type { VisionConfig } from './config.js';
import { attention, type Ctx, layerNorm, linear } from './layers.js';
import type { WeightSpec } from './weights.js';

/** pixel_values [B, C, H, W] -> patch features [B, (H/p)(W/p), hidden], row-major over patches. */
export function patchEmbed(ctx: Ctx, c: VisionConfig, pixels: Tensor, bias: boolean): Tensor {
  const { g, p } = ctx;
  const P = c.patchSize;
  const n = c.imageSize / P;
  const C = c.numChannels;
  const patches = g.reshape(g.transpose(g.reshape(pixels, [0, C, n, P, n, P]), [0, 2, 4, 1, 3, 5]), [
    0,
    n * n,
    C * P * P,
  ]);
  const w = g.reshape(p.get('embeddings.patch_embedding.weight'), [c.hiddenSize, C * P * P]);
  const y = g.matmul(patches, g.transpose(w, [1, 0]));
  return bias ? g.add(y, p.get('embeddings.patch_embedding.bias')) : y;
}

export function activation(ctx: Ctx, c: VisionConfig, x: Tensor): Tensor {
  const { g } = ctx;
  if (c.hiddenAct === 'quick_gelu') return g.mul(x, g.sigmoid(g.mul(x, 1.702)));
  return g.gelu(x, c.hiddenAct === 'gelu_pytorch_tanh' ? 'tanh' : 'none');
}

/** One pre-LN encoder block: x + attn(LN1 x), then + mlp(LN2 x). */
export function encoderLayer(ctx: Ctx, c: VisionConfig, prefix: string, x: Tensor): Tensor {
  const { g } = ctx;
  const h = layerNorm(ctx, x, `${prefix}.layer_norm1`, c.layerNormEps);
  const q = linear(ctx, h, `${prefix}.self_attn.q_proj`, true);
  const k = linear(ctx, h, `${prefix}.self_attn.k_proj`, true);
  const v = linear(ctx, h, `${prefix}.self_attn.v_proj`, true);
  const d = c.hiddenSize / c.numHeads;
  const a = attention(g, q, k, v, { heads: c.numHeads, kvHeads: c.numHeads, headDim: d });
  const r1 = g.add(x, linear(ctx, a.out, `${prefix}.self_attn.out_proj`, true));
  const h2 = layerNorm(ctx, r1, `${prefix}.layer_norm2`, c.layerNormEps);
  const m = linear(
    ctx,
    activation(ctx, c, linear(ctx, h2, `${prefix}.mlp.fc1`, true)),
    `${prefix}.mlp.fc2`,
    true,
  );
  return g.add(r1, m);
}

/** Runs the blocks; returns every layer's output (hidden_states[1..L] in HF terms). */
export function encoder(ctx: Ctx, c: VisionConfig, x: Tensor): Tensor[] {
  const states: Tensor[] = [];
  let h = x;
  for (let i = 0; i < c.numLayers; i++) {
    h = ctx.g.scope(`vision${i}`, () => encoderLayer(ctx, c, `encoder.layers.${i}`, h));
    states.push(h);
  }
  return states;
}

export function encoderSpec(c: VisionConfig, s: WeightSpec): void {
  const D = c.hiddenSize;
  const I = c.intermediateSize;
  for (let i = 0; i < c.numLayers; i++) {
    const p = `encoder.layers.${i}`;
    for (const ln of ['layer_norm1', 'layer_norm2']) {
      s.set(`${p}.${ln}.weight`, [D]);
      s.set(`${p}.${ln}.bias`, [D]);
    }
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      s.set(`${p}.self_attn.${proj}.weight`, [D, D]);
      s.set(`${p}.self_attn.${proj}.bias`, [D]);
    }
    s.set(`${p}.mlp.fc1.weight`, [I, D]);
    s.set(`${p}.mlp.fc1.bias`, [I]);
    s.set(`${p}.mlp.fc2.weight`, [D, I]);
    s.set(`${p}.mlp.fc2.bias`, [D]);
  }
}
