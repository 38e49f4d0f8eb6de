// The builder's inferred shapes and dtypes against what ORT actually produces, op by op.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor } from '@emoverse/onnx';
import { GraphBuilder } from '@emoverse/onnx';
import { Session } from './session.js';

test("every op helper's inferred shape and dtype match ORT's output", async () => {
  const g = new GraphBuilder('shapes');
  const a = g.input('a', 'float32', [2, 3, 4]);
  const b = g.input('b', 'float32', [3, 1]);
  const w = g.input('w', 'float32', [4, 5]);
  const ids = g.input('ids', 'int64', [2, 2]);
  const checks: Record<string, Tensor> = {
    add: g.add(a, b),
    sub: g.sub(b, a),
    mul: g.mul(a, 2),
    div: g.div(a, b),
    pow: g.pow(g.abs(a), 2),
    max: g.max(a, b),
    matmul: g.matmul(a, w),
    matmulBatched: g.matmul(g.input('p', 'float32', [2, 1, 3, 4]), g.input('q', 'float32', [5, 4, 2])),
    matmulVec: g.matmul(g.input('v', 'float32', [4]), w),
    gemm: g.gemm(g.reshape(a, [6, 4]), w, g.constant(new Float32Array(5), 'float32', [5]), { transB: false }),
    gemmT: g.gemm(g.input('at', 'float32', [4, 6]), g.input('bt', 'float32', [5, 4]), undefined, {
      transA: true,
      transB: true,
    }),
    softmax: g.softmax(a, 1),
    logSoftmax: g.logSoftmax(a),
    layerNorm: g.layerNorm(a, g.constant(new Float32Array(4).fill(1), 'float32', [4])),
    rmsNorm: g.rmsNorm(a, g.constant(new Float32Array(4).fill(1), 'float32', [4])),
    gelu: g.gelu(a),
    reduceSum: g.reduceSum(a, [0, 2], false),
    reduceMean: g.reduceMean(a, [-1], true),
    reduceMax: g.reduceMax(a, [1], false),
    sumAll: g.sumAll(a),
    reshape: g.reshape(a, [0, -1]),
    transpose: g.transpose(a, [2, 0, 1]),
    transposeRev: g.transpose(a),
    concat: g.concat([a, a], 1),
    slice: g.slice(a, [1, -3], [100, -1], [1, 2]),
    sliceStep: g.slice(a, [3], [0], [2], [-2]),
    gather: g.gather(g.reshape(a, [6, 4]), ids),
    gather1: g.gather(a, ids, 1),
    where: g.where(g.greater(a, 0), a, b),
    expand: g.expand(b, [2, 3, 4]),
    unsqueeze: g.unsqueeze(a, [0, -1]),
    squeeze: g.squeeze(g.unsqueeze(a, [1]), [1]),
    cast: g.cast(a, 'float64'),
    shapeOf: g.shapeOf(a, 1),
    equal: g.equal(ids, 1),
    sce: g.softmaxCrossEntropyLoss(g.reshape(a, [6, 4]), g.constant([0, 1, 2, 3, 0, -1], 'int64'), {
      ignoreIndex: -1,
    }),
    sceNone: g.softmaxCrossEntropyLoss(
      g.transpose(a, [0, 2, 1]),
      g.constant([0, 1, 2, 3, 0, 1], 'int64', [2, 3]),
      {
        reduction: 'none',
      },
    ),
  };
  const parts = g.split(a, [1, 3], 2);
  checks.split0 = parts[0];
  checks.split1 = parts[1];
  for (const [name, t] of Object.entries(checks)) g.output(t, name);
  const s = await Session.create(g, { ep: 'cpu', intraOpThreads: 1 });
  const fill = (dims: number[]) => ({
    dtype: 'float32' as const,
    dims,
    data: Float32Array.from({ length: dims.reduce((x, y) => x * y, 1) }, (_, i) => Math.sin(i + 1)),
  });
  const out = await s.run({
    a: fill([2, 3, 4]),
    b: fill([3, 1]),
    w: fill([4, 5]),
    p: fill([2, 1, 3, 4]),
    q: fill([5, 4, 2]),
    v: fill([4]),
    at: fill([4, 6]),
    bt: fill([5, 4]),
    ids: { dtype: 'int64', dims: [2, 2], data: BigInt64Array.from([0n, 1n, 2n, 1n]) },
  });
  for (const [name, t] of Object.entries(checks)) {
    assert.deepEqual(
      out[name].dims,
      t.shape,
      `${name}: ORT gives [${out[name].dims}], the builder said [${t.shape}]`,
    );
    assert.equal(out[name].type, t.dtype, name);
  }
  await s.release();
});
