// Every VJP against finite differences, in float64, on random shapes, through real ORT sessions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GraphBuilder, Tensor } from '@emoverse/onnx';
import type { CheckInput } from './gradcheck.js';
import { gradCheck, rng } from './gradcheck.js';

const shapeRand = rng(2024);
/** A random dim in [lo, hi]. */
const dim = (lo = 2, hi = 4) => lo + Math.floor(shapeRand() * (hi - lo + 1));

interface Case {
  op: string;
  inputs: CheckInput[];
  build: (g: GraphBuilder, xs: Tensor[]) => Tensor;
  tol?: { atol?: number; rtol?: number; h?: number };
}

const f = (name: string, shape: number[], range: CheckInput['range'] = 'any'): CheckInput => ({
  name,
  shape,
  range,
});
const ints = (name: string, shape: number[], values: number[]): CheckInput => ({
  name,
  shape,
  dtype: 'int64',
  values,
});

const f32tol = { atol: 2e-4, rtol: 2e-3, h: 1e-3 };
const [A, B, C] = [dim(), dim(), dim()];
const V = dim(4, 6);
const N = dim(3, 5);
const K = dim(3, 5);

const cases: Case[] = [
  { op: 'Add (broadcast)', inputs: [f('a', [A, B, C]), f('b', [B, 1])], build: (g, [a, b]) => g.add(a, b) },
  { op: 'Sub (broadcast)', inputs: [f('a', [1, C]), f('b', [A, B, C])], build: (g, [a, b]) => g.sub(a, b) },
  { op: 'Mul (broadcast)', inputs: [f('a', [A, 1, C]), f('b', [B, 1])], build: (g, [a, b]) => g.mul(a, b) },
  { op: 'Mul (same input twice)', inputs: [f('a', [A, B])], build: (g, [a]) => g.mul(a, a) },
  {
    op: 'Div (broadcast)',
    inputs: [f('a', [A, B]), f('b', [B], 'awayFromZero')],
    build: (g, [a, b]) => g.div(a, b),
  },
  { op: 'Pow', inputs: [f('a', [A, B], 'positive'), f('b', [B])], build: (g, [a, b]) => g.pow(a, b) },
  { op: 'Max', inputs: [f('a', [A, B]), f('b', [A, B])], build: (g, [a, b]) => g.max(a, b) },
  { op: 'Min', inputs: [f('a', [A, B]), f('b', [B])], build: (g, [a, b]) => g.min(a, b) },
  { op: 'Neg', inputs: [f('x', [A, B])], build: (g, [x]) => g.neg(x) },
  { op: 'Sqrt', inputs: [f('x', [A, B], 'positive')], build: (g, [x]) => g.sqrt(x) },
  { op: 'Reciprocal', inputs: [f('x', [A, B], 'awayFromZero')], build: (g, [x]) => g.reciprocal(x) },
  { op: 'Exp', inputs: [f('x', [A, B])], build: (g, [x]) => g.exp(x) },
  { op: 'Log', inputs: [f('x', [A, B], 'positive')], build: (g, [x]) => g.log(x) },
  { op: 'Tanh', inputs: [f('x', [A, B])], build: (g, [x]) => g.tanh(x) },
  { op: 'Sigmoid', inputs: [f('x', [A, B])], build: (g, [x]) => g.sigmoid(x) },
  // ORT has no float64 Erf: the builder computes it in float32 between Casts, so these two
  // compare at float32 precision (larger step, looser tolerance).
  { op: 'Erf', inputs: [f('x', [A, B])], build: (g, [x]) => g.erf(x), tol: f32tol },
  { op: 'Gelu (erf)', inputs: [f('x', [A, B])], build: (g, [x]) => g.gelu(x), tol: f32tol },
  { op: 'Gelu (tanh)', inputs: [f('x', [A, B])], build: (g, [x]) => g.gelu(x, 'tanh') },
  { op: 'Relu', inputs: [f('x', [A, B], 'awayFromZero')], build: (g, [x]) => g.relu(x) },
  { op: 'Abs', inputs: [f('x', [A, B], 'awayFromZero')], build: (g, [x]) => g.abs(x) },
  { op: 'SiLU', inputs: [f('x', [A, B])], build: (g, [x]) => g.silu(x) },
  { op: 'Identity', inputs: [f('x', [A])], build: (g, [x]) => g.identity(x) },
  { op: 'MatMul 2-D', inputs: [f('a', [A, K]), f('b', [K, B])], build: (g, [a, b]) => g.matmul(a, b) },
  {
    op: 'MatMul batched with broadcast',
    inputs: [f('a', [2, 1, A, K]), f('b', [C, K, B])],
    build: (g, [a, b]) => g.matmul(a, b),
  },
  {
    op: 'MatMul 3-D x 2-D weight',
    inputs: [f('a', [A, B, K]), f('b', [K, C])],
    build: (g, [a, b]) => g.matmul(a, b),
  },
  { op: 'MatMul 1-D x 2-D', inputs: [f('a', [K]), f('b', [K, B])], build: (g, [a, b]) => g.matmul(a, b) },
  { op: 'MatMul 3-D x 1-D', inputs: [f('a', [A, B, K]), f('b', [K])], build: (g, [a, b]) => g.matmul(a, b) },
  ...[false, true].flatMap((tA) =>
    [false, true].map(
      (tB): Case => ({
        op: `Gemm transA=${tA} transB=${tB}`,
        inputs: [f('a', tA ? [K, A] : [A, K]), f('b', tB ? [B, K] : [K, B]), f('c', [B])],
        build: (g, [a, b, c]) => g.gemm(a, b, c, { alpha: 0.7, beta: 1.3, transA: tA, transB: tB }),
      }),
    ),
  ),
  { op: 'Softmax (last axis)', inputs: [f('x', [A, B, C])], build: (g, [x]) => g.softmax(x, -1) },
  { op: 'Softmax (axis 1)', inputs: [f('x', [A, B, C])], build: (g, [x]) => g.softmax(x, 1) },
  { op: 'LogSoftmax', inputs: [f('x', [A, B])], build: (g, [x]) => g.logSoftmax(x, -1) },
  { op: 'ReduceSum keepdims', inputs: [f('x', [A, B, C])], build: (g, [x]) => g.reduceSum(x, [0, 2], true) },
  { op: 'ReduceSum', inputs: [f('x', [A, B, C])], build: (g, [x]) => g.reduceSum(x, [1], false) },
  { op: 'ReduceMean', inputs: [f('x', [A, B, C])], build: (g, [x]) => g.reduceMean(x, [-1], false) },
  {
    op: 'ReduceMean keepdims',
    inputs: [f('x', [A, B, C])],
    build: (g, [x]) => g.reduceMean(x, [0, 1], true),
  },
  { op: 'ReduceMax', inputs: [f('x', [A, B, C])], build: (g, [x]) => g.reduceMax(x, [1], false) },
  { op: 'Reshape', inputs: [f('x', [A, B, C])], build: (g, [x]) => g.reshape(x, [-1, C]) },
  { op: 'Transpose', inputs: [f('x', [A, B, C])], build: (g, [x]) => g.transpose(x, [2, 0, 1]) },
  {
    op: 'Concat',
    inputs: [f('a', [A, B]), f('b', [A, C])],
    build: (g, [a, b]) => g.concat([a, b, a], 1),
  },
  {
    op: 'Split',
    inputs: [f('x', [A, 5])],
    build: (g, [x]) => {
      const [p, , r] = g.split(x, [2, 1, 2], 1); // the middle piece is unused: zero gradient
      return g.mul(p, r);
    },
  },
  { op: 'Slice', inputs: [f('x', [A, 5, C])], build: (g, [x]) => g.slice(x, [1, -3], [100, -1], [0, 1]) },
  {
    op: 'Gather (embedding, repeated ids)',
    inputs: [f('table', [V, C]), ints('ids', [2, 3], [0, 2, 2, V - 1, 0, 1])],
    build: (g, [t, ids]) => g.gather(t, ids, 0),
  },
  {
    op: 'Gather (axis 1)',
    inputs: [f('x', [A, V, C]), ints('ids', [3], [1, 1, 0])],
    build: (g, [x, ids]) => g.gather(x, ids, 1),
  },
  {
    op: 'Where',
    inputs: [f('a', [A, B]), f('b', [B])],
    build: (g, [a, b]) => g.where(g.greater(a, 0), a, b),
  },
  { op: 'Expand', inputs: [f('x', [B, 1])], build: (g, [x]) => g.expand(x, [A, B, C]) },
  { op: 'Unsqueeze', inputs: [f('x', [A, B])], build: (g, [x]) => g.mul(g.unsqueeze(x, [0, 2]), 2) },
  { op: 'Squeeze', inputs: [f('x', [A, 1, B])], build: (g, [x]) => g.mul(g.squeeze(x, [1]), 2) },
  {
    op: 'Cast (float64 -> float32 -> float64)',
    inputs: [f('x', [A, B])],
    build: (g, [x]) => g.cast(g.mul(g.cast(x, 'float32'), 3), 'float64'),
    tol: f32tol,
  },
  {
    op: 'LayerNormalization (last axis)',
    inputs: [f('x', [A, B, C]), f('s', [C]), f('b', [C])],
    build: (g, [x, s, b]) => g.layerNorm(x, s, b),
  },
  {
    op: 'LayerNormalization (axis 1, no bias)',
    inputs: [f('x', [A, B, C]), f('s', [B, C])],
    build: (g, [x, s]) => g.layerNorm(x, s, undefined, { axis: 1 }),
  },
  {
    op: 'RMSNorm (decomposition)',
    inputs: [f('x', [A, B]), f('s', [B])],
    build: (g, [x, s]) => g.rmsNorm(x, s),
  },
  {
    op: 'SoftmaxCrossEntropyLoss mean, ignore_index',
    inputs: [
      f('x', [N, C]),
      ints(
        'y',
        [N],
        [...Array(N).keys()].map((i) => (i === 1 ? -100 : i % C)),
      ),
    ],
    build: (g, [x, y]) => g.softmaxCrossEntropyLoss(x, y, { ignoreIndex: -100 }),
  },
  {
    op: 'SoftmaxCrossEntropyLoss sum',
    inputs: [
      f('x', [N, C]),
      ints(
        'y',
        [N],
        [...Array(N).keys()].map((i) => (i * 7) % C),
      ),
    ],
    build: (g, [x, y]) => g.softmaxCrossEntropyLoss(x, y, { reduction: 'sum' }),
  },
  {
    op: 'SoftmaxCrossEntropyLoss none, [N, C, d]',
    inputs: [f('x', [2, C, 3]), ints('y', [2, 3], [0, 1, C - 1, 2 % C, -1, 0])],
    build: (g, [x, y]) => g.softmaxCrossEntropyLoss(x, y, { reduction: 'none', ignoreIndex: -1 }),
  },
];

let checkedOps = 0;
let checkedValues = 0;
for (const [i, c] of cases.entries()) {
  test(`VJP of ${c.op} matches finite differences (float64)`, async () => {
    const r = await gradCheck(c.inputs, c.build, { seed: 100 + i, ...c.tol });
    assert.ok(r.checked > 0);
    checkedOps++;
    checkedValues += r.checked;
  });
}

test('gradient-check summary', () => {
  assert.equal(checkedOps, cases.length);
  console.log(`gradient checks: ${checkedOps} op cases, ${checkedValues} gradient values`);
});
