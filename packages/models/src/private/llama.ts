// Llama (and Mistral-shaped) decoders: separate q/k/v and gate/up projections, optional
// attention_bias, GQA through num_key_value_heads.
import type { DecoderConfig } from './config.js';
import { addLinear, commonDecoderSpec, type DecoderArchitecture, linearModulesFromSpec } from './decoder.js';
import { linear } from './layers.js';
import type { WeightSpec } from './weights.js';

function llamaSpec(c: DecoderConfig): WeightSpec {
  const s = commonDecoderSpec(c);
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    addLinear(s, undefined, `${p}.self_attn.q_proj`, q, c.hiddenSize, c.qkvBias);
    addLinear(s, undefined, `${p}.self_attn.k_proj`, kv, c.hiddenSize, c.qkvBias);
    addLinear(s, undefined, `${p}.self_attn.v_proj`, kv, c.hiddenSize, c.qkvBias);
    addLinear(s, undefined, `${p}.mlp.gate_proj`, c.intermediateSize, c.hiddenSize, c.mlpBias);
    addLinear(s, undefined, `${p}.mlp.up_proj`, c.intermediateSize, c.hiddenSize, c.mlpBias);
  }
  return s;
}

export const llama: DecoderArchitecture = {
  weightSpec: llamaSpec,
  linearModules: (c) => linearModulesFromSpec(llamaSpec(c)),
  qkv: (ctx, c, p, h) => ({
    q: linear(ctx, h, `${p}.self_attn.q_proj`, c.qkvBias),
    k: linear(ctx, h, `${p}.self_attn.k_proj`, c.qkvBias),
    v: linear(ctx, h, `${p}.self_attn.v_proj`, c.qkvBias),
  }),
  gateUp: (ctx, c, p, h) => ({
    gate: linear(ctx, h, `${p}.mlp.gate_proj`, c.mlpBias),
    up: linear(ctx, h, `${p}.mlp.up_proj`, c.mlpBias),
  }),
};
