// Vector-Jacobian products, one per ONNX op: given the gradients of a node's outputs, emit
// ordinary ONNX ops computing the gradients of its inputs. Every VJP here is checked against
// finite differences in float64 (vjps.spec.ts).
import type { GraphBuilder, GraphNode, Tensor } from '@emoverse/onnx';
import { attr, isStatic } from '@emoverse/onnx';
import {
  concatMany,
  countOver,
  normAxes,
  reshapeLike,
  splitMany,
  unbroadcast,
  zerosLike,
} from './grad-helpers.js';

export interface VjpContext {
  g: GraphBuilder;
  node: GraphNode;
  /** The node's inputs (constant or not). */
  x: readonly (Tensor | undefined)[];
  /** The node's outputs (the forward values, usable in the backward pass). */
  y: readonly Tensor[];
  /** Gradients of the outputs; every one is present (zeros where nothing flowed). */
  gy: readonly Tensor[];
  /** Which inputs need a gradient. */
  needs: readonly boolean[];
}

export type Vjp = (c: VjpContext) => (Tensor | undefined)[];

/** The values of an int64 constant input (axes, shape, starts). */
export function constInts(g: GraphBuilder, t: Tensor | undefined, what: string): number[] {
  if (!t) return [];
  const init = g.initializers.get(t.name);
  if (!init) throw new Error(`${what}: input ${t.name} must be a constant for the gradient`);
  return Array.from(init.data as ArrayLike<number | bigint>, Number);
}

function intAttr(n: GraphNode, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a && a.type === 'int' ? a.value : dflt;
}

function floatAttr(n: GraphNode, name: string, dflt: number): number {
  const a = n.attrs[name];
  return a && a.type === 'float' ? a.value : dflt;
}

/** Transpose of the last two dims. */
function mT(g: GraphBuilder, t: Tensor): Tensor {
  const perm = t.shape.map((_, i) => i);
  perm[t.rank - 2] = t.rank - 1;
  perm[t.rank - 1] = t.rank - 2;
  return g.transpose(t, perm);
}

function matmulVjp({ g, x, gy, needs }: VjpContext): (Tensor | undefined)[] {
  let a = x[0] as Tensor;
  let b = x[1] as Tensor;
  let grad = gy[0];
  // 1-D operands: promote as numpy does, then squeeze the promoted dims out again.
  const aVec = a.rank === 1;
  const bVec = b.rank === 1;
  if (aVec) {
    a = g.unsqueeze(a, [0]);
    grad = g.unsqueeze(grad, [-2]);
  }
  if (bVec) {
    b = g.unsqueeze(b, [1]);
    grad = g.unsqueeze(grad, [-1]);
  }
  let ga: Tensor | undefined;
  let gb: Tensor | undefined;
  if (needs[0]) {
    const n = grad.shape[grad.rank - 1];
    if (b.rank === 2 && typeof n === 'number' && isStatic(a.shape)) {
      // x[..., k] @ W[k, n]: dx = dy·Wᵀ as one Gemm with transB on the folded batch, so no
      // Transpose of W is materialised (EPs without MatMul+Transpose fusion, e.g. WebGPU).
      ga = g.reshape(g.gemm(g.reshape(grad, [-1, n]), b, undefined, { transB: true }), a.shape as number[]);
    } else {
      ga = unbroadcast(g, g.matmul(grad, mT(g, b)), a);
    }
    if (aVec) ga = g.squeeze(ga, [0]);
  }
  if (needs[1]) {
    if (b.rank === 2 && a.rank > 2) {
      // x[..., k] @ W[k, n]: fold all batch dims into one Gemm (no batched MatMul, no ReduceSum).
      const k = a.shape[a.rank - 1];
      const n = grad.shape[grad.rank - 1];
      const a2 = g.reshape(a, [-1, typeof k === 'number' ? k : 0]);
      const g2 = g.reshape(grad, [-1, typeof n === 'number' ? n : 0]);
      if (typeof k !== 'number' || typeof n !== 'number')
        throw new Error(`MatMul gradient: the weight ${b} needs static dims`);
      gb = g.gemm(a2, g2, undefined, { transA: true });
    } else {
      gb = unbroadcast(g, g.matmul(mT(g, a), grad), b);
    }
    if (bVec) gb = g.squeeze(gb, [1]);
  }
  return [ga, gb];
}

function gemmVjp({ g, node, x, gy, needs }: VjpContext): (Tensor | undefined)[] {
  const [a, b, c] = x as Tensor[];
  const alpha = floatAttr(node, 'alpha', 1);
  const beta = floatAttr(node, 'beta', 1);
  const tA = intAttr(node, 'transA', 0) === 1;
  const tB = intAttr(node, 'transB', 0) === 1;
  const gyt = gy[0];
  const al = alpha === 1 ? {} : { alpha };
  let ga: Tensor | undefined;
  let gb: Tensor | undefined;
  let gc: Tensor | undefined;
  // op(A) = tA ? Aᵀ : A, and the same for B; dop(A) = α·gy·op(B)ᵀ, dop(B) = α·op(A)ᵀ·gy.
  if (needs[0])
    ga = tA
      ? g.gemm(b, gyt, undefined, { ...al, transA: tB, transB: true })
      : g.gemm(gyt, b, undefined, { ...al, transB: !tB });
  if (needs[1])
    gb = tB
      ? g.gemm(gyt, a, undefined, { ...al, transA: true, transB: tA })
      : g.gemm(a, gyt, undefined, { ...al, transA: !tA });
  if (c && needs[2]) gc = unbroadcast(g, beta === 1 ? gyt : g.mul(gyt, beta), c);
  return [ga, gb, gc];
}

function reduceBackShape(
  g: GraphBuilder,
  grad: Tensor,
  x: Tensor,
  axes: number[],
  keepdims: boolean,
): Tensor {
  const kept = keepdims ? grad : g.unsqueeze(grad, axes);
  return isStatic(x.shape) ? g.expand(kept, x.shape as number[]) : g.expand(kept, g.shapeOf(x), x.shape);
}

function reductionAxes(c: VjpContext): { axes: number[]; keepdims: boolean } {
  const x = c.x[0] as Tensor;
  const given = constInts(c.g, c.x[1], c.node.opType);
  const axes = given.length ? normAxes(given, x.rank) : x.shape.map((_, i) => i);
  return { axes: axes.sort((p, q) => p - q), keepdims: intAttr(c.node, 'keepdims', 1) === 1 };
}

function layerNormVjp({ g, node, x, gy, needs }: VjpContext): (Tensor | undefined)[] {
  const [xin, scale, bias] = x as Tensor[];
  const axis = normAxes([intAttr(node, 'axis', -1)], xin.rank)[0];
  const eps = floatAttr(node, 'epsilon', 1e-5);
  const axes = xin.shape.map((_, i) => i).filter((i) => i >= axis);
  const lead = xin.shape.map((_, i) => i).filter((i) => i < axis);
  // Recompute the statistics rather than rely on the optional Mean/InvStdDev outputs,
  // whose layout differs across ORT versions and EPs.
  const mean = g.reduceMean(xin, axes, true);
  const xc = g.sub(xin, mean);
  const rstd = g.reciprocal(g.sqrt(g.add(g.reduceMean(g.mul(xc, xc), axes, true), eps)));
  const xhat = g.mul(xc, rstd);
  const dy = gy[0];
  const sumLead = (t: Tensor, like: Tensor) => {
    const s = lead.length ? g.reduceSum(t, lead, false) : t;
    return unbroadcast(g, s, like);
  };
  let gx: Tensor | undefined;
  if (needs[0]) {
    const dxhat = g.mul(dy, scale);
    const m1 = g.reduceMean(dxhat, axes, true);
    const m2 = g.reduceMean(g.mul(dxhat, xhat), axes, true);
    gx = g.mul(rstd, g.sub(g.sub(dxhat, m1), g.mul(xhat, m2)));
  }
  const gs = needs[1] ? sumLead(g.mul(dy, xhat), scale) : undefined;
  const gb = bias && needs[2] ? sumLead(dy, bias) : undefined;
  return [gx, gs, gb];
}

function sceLossVjp({ g, node, x, gy, needs }: VjpContext): (Tensor | undefined)[] {
  if (!needs[0]) return [undefined, undefined];
  const [scores, labels] = x as Tensor[];
  const reduction = node.attrs.reduction?.type === 'string' ? node.attrs.reduction.value : 'mean';
  const ignore = node.attrs.ignore_index?.type === 'int' ? node.attrs.ignore_index.value : undefined;
  const C = scores.shape[1];
  if (typeof C !== 'number')
    throw new Error(`SoftmaxCrossEntropyLoss gradient: classes of ${scores} must be static`);
  const p = g.softmax(scores, 1);
  // one-hot of the labels along dim 1: labels [N, d...] -> [N, 1, d...] == [1, C, 1...]
  const classShape = scores.shape.map((_, i) => (i === 1 ? C : 1));
  const classes = g.constant([...Array(C).keys()], labels.dtype, classShape as number[]);
  const lab1 = g.unsqueeze(labels, [1]);
  const onehot = g.cast(g.equal(lab1, classes), scores.dtype);
  let d = g.sub(p, onehot);
  let valid: Tensor | undefined;
  if (ignore !== undefined) {
    valid = g.cast(g.not(g.equal(labels, g.constant(ignore, labels.dtype))), scores.dtype);
    d = g.mul(d, g.unsqueeze(valid, [1]));
  }
  let up = gy[0];
  if (reduction === 'none') up = g.unsqueeze(up, [1]);
  else if (reduction === 'mean') {
    const count = valid ? g.max(g.sumAll(valid), 1) : g.constant(countAll(labels), scores.dtype);
    up = g.div(up, count);
  }
  return [g.mul(d, up), undefined];
}

function countAll(t: Tensor): number {
  return countOver(
    t,
    t.shape.map((_, i) => i),
    'SoftmaxCrossEntropyLoss',
  );
}

function gatherVjp({ g, node, x, gy, needs }: VjpContext): (Tensor | undefined)[] {
  if (!needs[0]) return [undefined, undefined];
  const [data, indices] = x as Tensor[];
  const axis = intAttr(node, 'axis', 0);
  let dy = gy[0];
  const r = indices.rank;
  // Bring the gathered axis to the front: dy is data[:axis] + I + data[axis+1:]; ScatterND
  // wants I + (data dims with `axis` first).
  let zerosShapeOwner = data;
  let back: number[] | undefined;
  if (axis !== 0) {
    const perm = [
      ...[...Array(r).keys()].map((i) => axis + i),
      ...[...Array(axis).keys()],
      ...[...Array(dy.rank - axis - r).keys()].map((i) => axis + r + i),
    ];
    dy = g.transpose(dy, perm);
    const dperm = [axis, ...[...Array(data.rank).keys()].filter((i) => i !== axis)];
    zerosShapeOwner = g.transpose(data, dperm);
    back = dperm.map((_, i) => dperm.indexOf(i));
  }
  const zeros = zerosLike(g, zerosShapeOwner);
  const idx = g.unsqueeze(indices.dtype === 'int64' ? indices : g.cast(indices, 'int64'), [-1]);
  let gd = g.node('ScatterND', [zeros, idx, dy], { reduction: attr.string('add') }, [
    { dtype: data.dtype, shape: zeros.shape },
  ])[0];
  if (back) gd = g.transpose(gd, back);
  return [gd, undefined];
}

function sliceVjp({ g, x, gy, needs }: VjpContext): (Tensor | undefined)[] {
  if (!needs[0]) return [];
  const data = x[0] as Tensor;
  const starts = constInts(g, x[1], 'Slice');
  const ends = constInts(g, x[2], 'Slice');
  const axes = x[3] ? normAxes(constInts(g, x[3], 'Slice'), data.rank) : starts.map((_, i) => i);
  const steps = x[4] ? constInts(g, x[4], 'Slice') : starts.map(() => 1);
  const pads = new Array(2 * data.rank).fill(0);
  axes.forEach((a, i) => {
    const d = data.shape[a];
    if (typeof d !== 'number') throw new Error(`Slice gradient: dim ${a} of ${data} must be static`);
    if (steps[i] !== 1) throw new Error(`Slice gradient: only step 1 is supported (node slices ${data})`);
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const s = clamp(starts[i]);
    const e = Math.max(clamp(ends[i]), s);
    pads[a] = s;
    pads[data.rank + a] = d - e;
  });
  const out = g.node('Pad', [gy[0], g.int64s(pads)], { mode: attr.string('constant') }, [
    { dtype: data.dtype, shape: data.shape },
  ])[0];
  return [out];
}

const elementwise =
  (f: (c: VjpContext, x: Tensor, y: Tensor, gy: Tensor) => Tensor): Vjp =>
  (c) => [c.needs[0] ? f(c, c.x[0] as Tensor, c.y[0], c.gy[0]) : undefined];

export const VJPS: Record<string, Vjp> = {
  Identity: ({ gy }) => [gy[0]],
  Add: ({ g, x, gy, needs }) => [
    needs[0] ? unbroadcast(g, gy[0], x[0] as Tensor) : undefined,
    needs[1] ? unbroadcast(g, gy[0], x[1] as Tensor) : undefined,
  ],
  Sub: ({ g, x, gy, needs }) => [
    needs[0] ? unbroadcast(g, gy[0], x[0] as Tensor) : undefined,
    needs[1] ? unbroadcast(g, g.neg(gy[0]), x[1] as Tensor) : undefined,
  ],
  Mul: ({ g, x, gy, needs }) => [
    needs[0] ? unbroadcast(g, g.mul(gy[0], x[1] as Tensor), x[0] as Tensor) : undefined,
    needs[1] ? unbroadcast(g, g.mul(gy[0], x[0] as Tensor), x[1] as Tensor) : undefined,
  ],
  Div: ({ g, x, y, gy, needs }) => {
    const b = x[1] as Tensor;
    const ga = needs[0] ? unbroadcast(g, g.div(gy[0], b), x[0] as Tensor) : undefined;
    const gb = needs[1] ? unbroadcast(g, g.neg(g.div(g.mul(gy[0], y[0]), b)), b) : undefined;
    return [ga, gb];
  },
  Pow: ({ g, x, y, gy, needs }) => {
    const [a, b] = x as Tensor[];
    const ga = needs[0] ? unbroadcast(g, g.mul(gy[0], g.mul(b, g.pow(a, g.sub(b, 1)))), a) : undefined;
    const gb = needs[1] ? unbroadcast(g, g.mul(gy[0], g.mul(y[0], g.log(a))), b) : undefined;
    return [ga, gb];
  },
  Max: ({ g, x, gy, needs }) => {
    const [a, b] = x as Tensor[];
    const aWins = g.cast(g.not(g.less(a, b)), gy[0].dtype); // ties go to the first operand
    return [
      needs[0] ? unbroadcast(g, g.mul(gy[0], aWins), a) : undefined,
      needs[1] ? unbroadcast(g, g.mul(gy[0], g.sub(1, aWins)), b) : undefined,
    ];
  },
  Min: ({ g, x, gy, needs }) => {
    const [a, b] = x as Tensor[];
    const aWins = g.cast(g.not(g.greater(a, b)), gy[0].dtype);
    return [
      needs[0] ? unbroadcast(g, g.mul(gy[0], aWins), a) : undefined,
      needs[1] ? unbroadcast(g, g.mul(gy[0], g.sub(1, aWins)), b) : undefined,
    ];
  },
  Neg: elementwise(({ g }, _x, _y, gy) => g.neg(gy)),
  Sqrt: elementwise(({ g }, _x, y, gy) => g.div(g.mul(gy, 0.5), y)),
  Reciprocal: elementwise(({ g }, _x, y, gy) => g.neg(g.mul(gy, g.mul(y, y)))),
  Exp: elementwise(({ g }, _x, y, gy) => g.mul(gy, y)),
  Log: elementwise(({ g }, x, _y, gy) => g.div(gy, x)),
  Tanh: elementwise(({ g }, _x, y, gy) => g.mul(gy, g.sub(1, g.mul(y, y)))),
  Sigmoid: elementwise(({ g }, _x, y, gy) => g.mul(gy, g.mul(y, g.sub(1, y)))),
  Erf: elementwise(({ g }, x, _y, gy) => g.mul(gy, g.mul(g.exp(g.neg(g.mul(x, x))), 2 / Math.sqrt(Math.PI)))),
  Relu: elementwise(({ g }, x, _y, gy) => g.where(g.greater(x, 0), gy, 0)),
  Abs: elementwise(({ g }, x, _y, gy) =>
    g.mul(gy, g.sub(g.cast(g.greater(x, 0), gy.dtype), g.cast(g.less(x, 0), gy.dtype))),
  ),
  Cast: ({ g, x, gy, needs }) => [needs[0] ? g.cast(gy[0], (x[0] as Tensor).dtype) : undefined],
  MatMul: matmulVjp,
  Gemm: gemmVjp,
  Softmax: elementwise(({ g, node }, _x, y, gy) => {
    const axis = intAttr(node, 'axis', -1);
    return g.mul(y, g.sub(gy, g.reduceSum(g.mul(gy, y), [axis], true)));
  }),
  LogSoftmax: elementwise(({ g, node }, _x, y, gy) => {
    const axis = intAttr(node, 'axis', -1);
    return g.sub(gy, g.mul(g.exp(y), g.reduceSum(gy, [axis], true)));
  }),
  ReduceSum: (c) => {
    const { axes, keepdims } = reductionAxes(c);
    return [c.needs[0] ? reduceBackShape(c.g, c.gy[0], c.x[0] as Tensor, axes, keepdims) : undefined];
  },
  ReduceMean: (c) => {
    const { axes, keepdims } = reductionAxes(c);
    const x = c.x[0] as Tensor;
    const n = countOver(x, axes, `ReduceMean(${x.name})`);
    return [c.needs[0] ? reduceBackShape(c.g, c.g.div(c.gy[0], n), x, axes, keepdims) : undefined];
  },
  ReduceMax: (c) => {
    const { g } = c;
    const { axes, keepdims } = reductionAxes(c);
    const x = c.x[0] as Tensor;
    const y = reduceBackShape(g, keepdims ? c.y[0] : g.unsqueeze(c.y[0], axes), x, axes, true);
    // Ties share the gradient equally.
    const mask = g.cast(g.equal(x, y), x.dtype);
    const share = g.div(mask, g.reduceSum(mask, axes, true));
    return [c.needs[0] ? g.mul(share, reduceBackShape(g, c.gy[0], x, axes, keepdims)) : undefined];
  },
  Reshape: ({ g, x, gy, needs }) => [needs[0] ? reshapeLike(g, gy[0], x[0] as Tensor) : undefined],
  Unsqueeze: ({ g, x, gy, needs }) => [needs[0] ? reshapeLike(g, gy[0], x[0] as Tensor) : undefined],
  Squeeze: ({ g, x, gy, needs }) => [needs[0] ? reshapeLike(g, gy[0], x[0] as Tensor) : undefined],
  Expand: ({ g, x, gy, needs }) => [needs[0] ? unbroadcast(g, gy[0], x[0] as Tensor) : undefined],
  Transpose: ({ g, node, gy, needs }) => {
    const perm =
      node.attrs.perm?.type === 'ints'
        ? [...node.attrs.perm.value]
        : gy[0].shape.map((_, i, a) => a.length - 1 - i);
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [needs[0] ? g.transpose(gy[0], inv) : undefined];
  },
  Concat: ({ g, node, x, gy, needs }) => {
    const axis = intAttr(node, 'axis', 0);
    const sizes = x.map((t) => (t as Tensor).shape[axis]);
    if (!sizes.every((s) => typeof s === 'number'))
      throw new Error(`Concat gradient: sizes along axis ${axis} must be static (${node.name})`);
    const parts = splitMany(g, gy[0], sizes as number[], axis);
    return parts.map((p, i) => (needs[i] ? p : undefined));
  },
  Split: ({ g, node, gy, needs }) => [needs[0] ? concatMany(g, gy, intAttr(node, 'axis', 0)) : undefined],
  Slice: sliceVjp,
  Gather: gatherVjp,
  Where: ({ g, x, gy, needs }) => {
    const [cond, a, b] = x as Tensor[];
    return [
      undefined,
      needs[1] ? unbroadcast(g, g.where(cond, gy[0], 0), a) : undefined,
      needs[2] ? unbroadcast(g, g.where(cond, 0, gy[0]), b) : undefined,
    ];
  },
  LayerNormalization: layerNormVjp,
  SoftmaxCrossEntropyLoss: sceLossVjp,
};
