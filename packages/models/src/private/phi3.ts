// Phi-3: one fused qkv_proj [(H + 2 kvH) * D, hidden] and one fused gate_up_proj [2I, hidden].
// The fused outputs are split in the graph, so LoRA on qkv_proj / gate_up_proj (what PEFT
// targets for Phi-3) adapts the fused matrix exactly as in Python.
import type { DecoderConfig } from './config.js';
import { addLinear, commonDecoderSpec, type DecoderArchitecture, linearModulesFromSpec } from './decoder.js';
import { linear } from './layers.js';
import type { WeightSpec } from './weights.js';

function phi3Spec(c: DecoderConfig): WeightSpec {
  const s = commonDecoderSpec(c);
  const out = (c.numHeads + 2 * c.numKvHeads) * c.headDim;
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    addLinear(s, undefined, `${p}.self_attn.qkv_proj`, out, c.hiddenSize, false);
    addLinear(s, undefined, `${p}.mlp.gate_up_proj`, 2 * c.intermediateSize, c.hiddenSize, false);
  }
  return s;
}

export const phi3: DecoderArchitecture = {
  weightSpec: phi3Spec,
  linearModules: (c) => linearModulesFromSpec(phi3Spec(c)),
  qkv: (ctx, c, p, h) => {
    const qkv = linear(ctx, h, `${p}.self_attn.qkv_proj`);
    const q = c.numHeads * c.headDim;
    const kv = c.numKvHeads * c.headDim;
    const [qq, k, v] = ctx.g.split(qkv, [q, kv, kv], -1);
    return { q: qq, k, v };
  },
  gateUp: (ctx, c, p, h) => {
    // HF: gate, up = gate_up.chunk(2, dim=-1) -- the first half is the gate
    const [gate, up] = ctx.g.split(
      linear(ctx, h, `${p}.mlp.gate_up_proj`),
      [c.intermediateSize, c.intermediateSize],
      -1,
    );
    return { gate, up };
  },
};
