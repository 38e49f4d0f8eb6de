// Building blocks shared by the architectures: linear layers (with an optional LoRA branch),
// RMSNorm, rotary position embeddings, grouped-query attention with an optional KV cache.
// Layouts: activations [batch, seq, features]; K/V cache [batch, kv_heads, past, head_dim].
import type { Dim, GraphBuilder, Tensor } from '@emoverse/onnx';
import { seededDropout } from './dropout.js';
import type { ParamBinder } from './weights.js';

/** The LoRA branch of one module: y += scale * dropout(x) A^T B^T. */
export interface LoraBranch {
  A: Tensor; // [r, in]
  B: Tensor; // [out, r]
  scale: number;
  dropout: number;
}

export interface Ctx {
  g: GraphBuilder;
  p: ParamBinder;
  /** LoRA branch for a module path (e.g. model.layers.0.self_attn.q_proj), if it has one. */
  lora?: (modulePath: string) => LoraBranch | undefined;
  /** Training graphs apply LoRA dropout; inference graphs do not. */
  training: boolean;
  /**
   * The dropout seed input (int64 scalar), declared on first use: only graphs that apply
   * dropout take it. Required when training with LoRA dropout > 0.
   */
  dropoutSeed?: () => Tensor;
}

/** HF nn.Linear: y = x W^T (+ b), W stored [out, in]. */
export function linear(ctx: Ctx, x: Tensor, path: string, bias = false): Tensor {
  const { g, p } = ctx;
  let y = g.matmul(x, g.transpose(p.get(`${path}.weight`), [1, 0]));
  if (bias) y = g.add(y, p.get(`${path}.bias`));
  const branch = ctx.lora?.(path);
  if (branch) y = g.add(y, loraDelta(ctx, x, branch, path));
  return y;
}

function loraDelta(ctx: Ctx, x: Tensor, l: LoraBranch, path: string): Tensor {
  const { g } = ctx;
  let xin = x;
  if (ctx.training && l.dropout > 0) {
    if (!ctx.dropoutSeed) throw new Error(`LoRA dropout on ${path} needs a dropout seed input`);
    xin = seededDropout(g, x, l.dropout, ctx.dropoutSeed(), path);
  }
  const down = g.matmul(xin, g.transpose(l.A, [1, 0]));
  const up = g.matmul(down, g.transpose(l.B, [1, 0]));
  return g.mul(up, l.scale);
}

export function rmsNorm(ctx: Ctx, x: Tensor, weightName: string, eps: number): Tensor {
  return ctx.g.rmsNorm(x, ctx.p.get(weightName), eps);
}

export function layerNorm(ctx: Ctx, x: Tensor, prefix: string, eps: number): Tensor {
  return ctx.g.layerNorm(x, ctx.p.get(`${prefix}.weight`), ctx.p.get(`${prefix}.bias`), { epsilon: eps });
}

/**
 * RoPE tables as HF computes them (in float32): inv_freq_i = theta^(-2i/d), angle = pos * inv_freq,
 * cos/sin of [angles, angles] so that rotate_half pairs dim i with dim i + d/2.
 */
export function ropeTables(
  maxPositions: number,
  rotDim: number,
  theta: number,
): { cos: Float32Array; sin: Float32Array } {
  const half = rotDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / theta ** ((2 * i) / rotDim);
  const cos = new Float32Array(maxPositions * rotDim);
  const sin = new Float32Array(maxPositions * rotDim);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const a = Math.fround(p * inv[i]);
      cos[p * rotDim + i] = cos[p * rotDim + i + half] = Math.cos(a);
      sin[p * rotDim + i] = sin[p * rotDim + i + half] = Math.sin(a);
    }
  }
  return { cos, sin };
}

export interface Rope {
  /** [batch, seq, 1, rotDim], gathered by position id */
  cos: Tensor;
  sin: Tensor;
  rotDim: number;
}

export function ropeForPositions(
  g: GraphBuilder,
  positionIds: Tensor,
  maxPositions: number,
  rotDim: number,
  theta: number,
): Rope {
  const t = ropeTables(maxPositions, rotDim, theta);
  const cosT = g.initializer('rope.cos', t.cos, [maxPositions, rotDim]);
  const sinT = g.initializer('rope.sin', t.sin, [maxPositions, rotDim]);
  return {
    cos: g.unsqueeze(g.gather(cosT, positionIds), [2]),
    sin: g.unsqueeze(g.gather(sinT, positionIds), [2]),
    rotDim,
  };
}

/** x [batch, seq, heads, headDim] rotated on its first rotDim dims (the rest pass through). */
export function applyRope(g: GraphBuilder, x: Tensor, rope: Rope): Tensor {
  const d = x.shape[3] as number;
  const [rot, pass] = rope.rotDim === d ? [x, undefined] : g.split(x, [rope.rotDim, d - rope.rotDim], 3);
  const half = rope.rotDim / 2;
  const [x1, x2] = g.split(rot, [half, half], 3);
  const rotated = g.concat([g.neg(x2), x1], 3);
  const out = g.add(g.mul(rot, rope.cos), g.mul(rotated, rope.sin));
  return pass ? g.concat([out, pass], 3) : out;
}

/**
 * attention() over an in-place cache, for one new token per row (decode). The softmax over the
 * P past keys and the new key is written out, so that nothing of size P is ever joined or copied:
 *   s_p = q·K_pastᵀ/√D + bias,  s_n = q·k_newᵀ/√D,  m = max(max_p s_p, s_n)
 *   out = (Σ_p e^{s_p − m} V_p + e^{s_n − m} v_new) / (Σ_p e^{s_p − m} + e^{s_n − m})
 * `bias` [B, 1, 1, 1, P] masks the slot's unused columns; the new token always sees itself.
 */
function slotAttention(
  g: GraphBuilder,
  q4: Tensor, // [B, 1, H, D] the new token's queries (RoPE applied)
  k4: Tensor, // [B, 1, kvH, D] its key and value
  v4: Tensor,
  past: KvPast, // keys [B, kvH, D, P], values [B, kvH, P, D]
  o: { heads: number; kvHeads: number; headDim: number; bias?: Tensor | ((totalDim: Dim) => Tensor) },
): { out: Tensor; present: KvPast } {
  const { heads: H, kvHeads, headDim: D } = o;
  const group = H / kvHeads;
  // One query per row, so grouping heads by the K/V head they share is a reshape (head h = kv·group + i).
  const qs = g.mul(g.reshape(q4, [0, kvHeads, group, D]), 1 / Math.sqrt(D)); // [B, kvH, group, D]
  const kc = g.reshape(k4, [0, kvHeads, 1, D]); // [B, kvH, 1, D]
  const vc = g.reshape(v4, [0, kvHeads, 1, D]);
  let sPast = g.matmul(qs, past.key); // [B, kvH, group, P]
  if (o.bias) {
    const bias = typeof o.bias === 'function' ? o.bias(past.key.shape[3]) : o.bias; // [B, 1, 1, 1, P]
    sPast = g.add(sPast, g.reshape(bias, [0, 1, 1, -1]));
  }
  const sNew = g.matmul(qs, g.reshape(k4, [0, kvHeads, D, 1])); // [B, kvH, group, 1]
  // softmax over [past | new] without joining them: shared max m, then Σ exp over both parts
  const m = g.max(g.reduceMax(sPast, [3]), sNew);
  const ePast = g.exp(g.sub(sPast, m));
  const eNew = g.exp(g.sub(sNew, m));
  const z = g.add(g.reduceSum(ePast, [3]), eNew);
  const num = g.add(g.matmul(ePast, past.value), g.mul(eNew, vc)); // [B, kvH, group, D]
  const out = g.reshape(g.div(num, z), [0, 1, H * D]);
  return { out, present: { key: kc, value: vc } };
}

export interface KvPast {
  key: Tensor; // [batch, kvHeads, past, headDim]
  value: Tensor;
}

/**
 * Scaled dot-product attention with grouped-query heads. q [B,S,H*D], k/v [B,S,kvH*D].
 * `bias` [B,1,1,S,T] is added to the scores (0 = attend, large negative = masked); it carries
 * the causal mask and padding. With `past`, new K/V are appended to the cache and returned.
 * Query head h uses K/V head floor(h / (H/kvH)), as HF's repeat_kv.
 */
export function attention(
  g: GraphBuilder,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  o: {
    heads: number;
    kvHeads: number;
    headDim: number;
    /** additive mask for scores [B, kvH, group, S, T]; a function gets T's dim (known once the cache is joined) */
    bias?: Tensor | ((totalDim: Dim) => Tensor);
    rope?: Rope;
    past?: KvPast;
    /**
     * 'slots': the past is a fixed-capacity cache that the caller updates in place (continuous.ts):
     * keys [B, kvH, D, P] (already transposed), values [B, kvH, P, D], one new token per row
     * (slotAttention: the softmax over past and new key is written out, so the cache is never
     * copied); `present` holds only the new token's K/V. Default 'concat': the new K/V are appended
     * and returned whole.
     */
    pastLayout?: 'concat' | 'slots';
  },
): { out: Tensor; present: KvPast } {
  const { heads, kvHeads, headDim: D } = o;
  const group = heads / kvHeads;
  let q4 = g.reshape(q, [0, 0, heads, D]);
  let k4 = g.reshape(k, [0, 0, kvHeads, D]);
  const v4 = g.reshape(v, [0, 0, kvHeads, D]);
  if (o.rope) {
    q4 = applyRope(g, q4, o.rope);
    k4 = applyRope(g, k4, o.rope);
  }
  if (o.past && o.pastLayout === 'slots') return slotAttention(g, q4, k4, v4, o.past, o);
  // queries grouped by the K/V head they share: [B, kvH, group, S, D]
  const qg = g.transpose(g.reshape(q4, [0, 0, kvHeads, group, D]), [0, 2, 3, 1, 4]);
  let kc = g.transpose(k4, [0, 2, 1, 3]); // [B, kvH, S, D]
  let vc = g.transpose(v4, [0, 2, 1, 3]);
  if (o.past) {
    kc = g.concat([o.past.key, kc], 2);
    vc = g.concat([o.past.value, vc], 2);
  }
  const kT = g.unsqueeze(g.transpose(kc, [0, 1, 3, 2]), [2]); // [B, kvH, 1, D, T]
  let scores = g.mul(g.matmul(qg, kT), 1 / Math.sqrt(D));
  if (o.bias) scores = g.add(scores, typeof o.bias === 'function' ? o.bias(kc.shape[2]) : o.bias);
  const probs = g.softmax(scores, -1);
  const ctxv = g.matmul(probs, g.unsqueeze(vc, [2])); // [B, kvH, group, S, D]
  const out = g.reshape(g.transpose(ctxv, [0, 3, 1, 2, 4]), [0, 0, heads * D]);
  return { out, present: { key: kc, value: vc } };
}
