// Seeded LoRA dropout. ONNX's RandomUniformLike draws a fresh mask on every run with no way to
// replay it, so two identical runs (or a run resumed from a checkpoint) would drift apart from
// the first update on. Here the mask is a pure function of (dropout_seed, module, position):
// the train step takes a scalar int64 input `dropout_seed` (the trainer derives it from its
// seed and its micro-batch counter, which checkpoints keep), and the graph hashes each element's
// flat index with it using ordinary integer ONNX ops. Same seed, same mask, on any run.
import { attr, type GraphBuilder, type Tensor } from '@emoverse/onnx';

/** The graph input that carries the per-micro-batch dropout seed (int64 scalar in [0, 2^32)). */
export const DROPOUT_SEED = 'dropout_seed';

const MIX = 0x45d9f3b;
const LOW32 = 0xffffffff;
const TWO_32 = 2 ** 32;

/**
 * A 32-bit integer hash (xorshift-multiply, a bijection on [0, 2^32) with good avalanche).
 * The graph computes the very same function (hash32InGraph), so tests can check it here.
 */
export function hash32(v: number): number {
  let x = v >>> 0;
  x = Math.imul(x ^ (x >>> 16), MIX) >>> 0;
  x = Math.imul(x ^ (x >>> 16), MIX) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a of a module path: each LoRA module draws its own mask, as PEFT's per-module nn.Dropout. */
export function moduleSalt(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** The dropout seed of micro-batch `call` (0-based) of a run seeded with `seed`. */
export function dropoutSeed(seed: number, call: number): number {
  const s = hash32(hash32(seed >>> 0) ^ (Math.floor(seed / TWO_32) >>> 0));
  return hash32(s ^ hash32(call >>> 0));
}

/**
 * The keep decision of element `index` of module `path`'s input under `seed`, as the graph
 * takes it: keep iff hash32(index ^ hash32(seed ^ salt)) >= round(rate * 2^32).
 */
export function keepsElement(seed: number, path: string, index: number, rate: number): boolean {
  const key = hash32((seed ^ moduleSalt(path)) >>> 0);
  return hash32((index ^ key) >>> 0) >= threshold(rate);
}

function threshold(rate: number): number {
  return Math.min(TWO_32, Math.round(rate * TWO_32));
}

/** hash32 on int64 values in [0, 2^32): products stay below 2^59, so int64 never overflows. */
function hash32InGraph(g: GraphBuilder, t: Tensor): Tensor {
  const xorShift = (x: Tensor) => bitwise(g, 'BitwiseXor', x, g.div(x, 0x10000));
  let x = bitwise(g, 'BitwiseAnd', g.mul(xorShift(t), MIX), g.constant(LOW32, 'int64'));
  x = bitwise(g, 'BitwiseAnd', g.mul(xorShift(x), MIX), g.constant(LOW32, 'int64'));
  return xorShift(x);
}

function bitwise(g: GraphBuilder, op: 'BitwiseXor' | 'BitwiseAnd', a: Tensor, b: Tensor): Tensor {
  return g.node(op, [a, b], {}, [{ dtype: 'int64', shape: a.rank >= b.rank ? a.shape : b.shape }])[0];
}

/**
 * Inverted dropout x * keep / (1 - rate) with keep from the seeded hash. The mask is built from
 * Shape(x) and the seed only (integer values), so autodiff sees a constant: gradients flow
 * through the multiplication alone.
 */
export function seededDropout(g: GraphBuilder, x: Tensor, rate: number, seed: Tensor, path: string): Tensor {
  const shape = g.shapeOf(x);
  const [count] = g.node('ReduceProd', [shape, g.int64s([0])], { keepdims: attr.int(0) }, [
    { dtype: 'int64', shape: [] },
  ]);
  const [flat] = g.node('Range', [g.constant(0, 'int64'), count, g.constant(1, 'int64')], {}, [
    { dtype: 'int64', shape: ['numel'] },
  ]);
  const key = hash32InGraph(g, bitwise(g, 'BitwiseXor', seed, g.constant(moduleSalt(path), 'int64')));
  const u = hash32InGraph(g, bitwise(g, 'BitwiseXor', flat, key));
  const keepFlat = g.not(g.less(u, g.constant(threshold(rate), 'int64')));
  const keep = g.reshape(g.cast(keepFlat, 'float32'), shape, x.shape);
  return g.mul(x, g.mul(keep, 1 / (1 - rate)));
}
