// A small pre-LN GPT decoder written with the builder: the model the engine's tests train
// and the train-step benchmark times against PyTorch (scripts/bench-train-step). The real
// model zoo (Llama, Phi-3, Qwen2) lives in @emoverse/models.
import type { GraphBuilder, Tensor } from '@emoverse/onnx';
import { rng } from './gradcheck.js';
import type { ParamSpec, TrainStepSpec } from './train-step.js';

export interface GptConfig {
  vocab: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  seq: number;
  batch: number;
  /** MLP hidden size = ffMult · dModel (default 4). */
  ffMult?: number;
}

/** Parameter shapes in a fixed order (the PyTorch benchmark builds the same list). */
export function gptParamShapes(c: GptConfig): [string, number[]][] {
  const d = c.dModel;
  const f = (c.ffMult ?? 4) * d;
  const out: [string, number[]][] = [
    ['wte', [c.vocab, d]],
    ['wpe', [c.seq, d]],
  ];
  for (let l = 0; l < c.nLayers; l++) {
    out.push(
      [`h${l}.ln1.g`, [d]],
      [`h${l}.ln1.b`, [d]],
      [`h${l}.attn.wqkv`, [d, 3 * d]],
      [`h${l}.attn.bqkv`, [3 * d]],
      [`h${l}.attn.wo`, [d, d]],
      [`h${l}.attn.bo`, [d]],
      [`h${l}.ln2.g`, [d]],
      [`h${l}.ln2.b`, [d]],
      [`h${l}.mlp.w1`, [d, f]],
      [`h${l}.mlp.b1`, [f]],
      [`h${l}.mlp.w2`, [f, d]],
      [`h${l}.mlp.b2`, [d]],
    );
  }
  out.push(['lnf.g', [d]], ['lnf.b', [d]]);
  return out;
}

/** GPT-2 style init: N(0, 0.02) weights, zero biases, unit LayerNorm gains. */
export function gptInitParams(c: GptConfig, seed = 0): Record<string, ParamSpec> {
  const rand = rng(seed + 1);
  const normal = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  const params: Record<string, ParamSpec> = {};
  for (const [name, shape] of gptParamShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('.g')) data.fill(1);
    else if (shape.length === 2) for (let i = 0; i < n; i++) data[i] = 0.02 * normal();
    params[name] = { data, shape };
  }
  return params;
}

/** Forward pass: tokens [B, T] → mean next-token cross-entropy against targets [B, T]. */
export function gptForward(c: GptConfig): TrainStepSpec['forward'] {
  return (g: GraphBuilder, p: Record<string, Tensor>) => {
    const { batch: B, seq: T, dModel: d, nHeads: H } = c;
    const hd = d / H;
    const tokens = g.input('tokens', 'int64', [B, T]);
    const targets = g.input('targets', 'int64', [B, T]);
    // Additive causal mask: −1e9 above the diagonal (finite, so no Inf·0 in gradients).
    const mask = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
    const causal = g.constant(mask, 'float32', [T, T]);
    let x = g.add(g.gather(p.wte, tokens), p.wpe); // [B, T, d]
    for (let l = 0; l < c.nLayers; l++) {
      const w = (n: string) => p[`h${l}.${n}`];
      x = g.scope(`h${l}`, () => {
        const a = g.layerNorm(x, w('ln1.g'), w('ln1.b'));
        const qkv = g.add(g.matmul(a, w('attn.wqkv')), w('attn.bqkv')); // [B, T, 3d]
        const heads = g.reshape(qkv, [B, T, 3, H, hd]);
        const [q, k, v] = g
          .split(g.transpose(heads, [2, 0, 3, 1, 4]), [1, 1, 1], 0)
          .map((t) => g.squeeze(t, [0]));
        const scores = g.add(g.mul(g.matmul(q, g.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(hd)), causal);
        const o = g.matmul(g.softmax(scores, -1), v); // [B, H, T, hd]
        const merged = g.reshape(g.transpose(o, [0, 2, 1, 3]), [B, T, d]);
        const h = g.add(x, g.add(g.matmul(merged, w('attn.wo')), w('attn.bo')));
        const m = g.layerNorm(h, w('ln2.g'), w('ln2.b'));
        const ff = g.add(
          g.matmul(g.gelu(g.add(g.matmul(m, w('mlp.w1')), w('mlp.b1'))), w('mlp.w2')),
          w('mlp.b2'),
        );
        return g.add(h, ff);
      });
    }
    const xf = g.layerNorm(x, p['lnf.g'], p['lnf.b']);
    const logits = g.matmul(g.reshape(xf, [B * T, d]), g.transpose(p.wte, [1, 0])); // tied head [B·T, V]
    return g.softmaxCrossEntropyLoss(logits, g.reshape(targets, [B * T]), { ignoreIndex: -100 });
  };
}
