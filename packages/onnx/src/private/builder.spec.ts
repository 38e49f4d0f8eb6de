import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from './builder.js';
import { dumpGraph } from './dump.js';
import { onnx } from './proto.js';
import { toModelProto } from './serialize.js';

test('shapes and dtypes are tracked through a small MLP with symbolic batch', () => {
  const g = new GraphBuilder('mlp');
  const x = g.input('x', 'float32', ['batch', 8]);
  const w = g.initializer('w1', new Float32Array(8 * 16), [8, 16]);
  const b = g.initializer('b1', new Float32Array(16), [16]);
  const h = g.gelu(g.add(g.matmul(x, w), b));
  assert.deepEqual(h.shape, ['batch', 16]);
  const r = g.reshape(h, [-1, 4, 4]);
  assert.deepEqual(r.shape, ['batch', 4, 4]);
  const flat = g.reshape(r, [-1]);
  assert.deepEqual(flat.shape, ['16*batch']);
  const t = g.transpose(r, [0, 2, 1]);
  const [p, q] = g.split(t, [1, 3], 1);
  assert.deepEqual(p.shape, ['batch', 1, 4]);
  assert.deepEqual(q.shape, ['batch', 3, 4]);
  assert.deepEqual(g.concat([q, p], 1).shape, ['batch', 4, 4]);
  assert.deepEqual(g.reduceMean(r, [-1], false).shape, ['batch', 4]);
  assert.deepEqual(g.slice(r, [1], [100], [2]).shape, ['batch', 4, 3]);
  assert.deepEqual(g.unsqueeze(h, [0, -1]).shape, [1, 'batch', 16, 1]);
  assert.deepEqual(g.squeeze(g.unsqueeze(h, [1]), [1]).shape, ['batch', 16]);
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  const emb = g.initializer('emb', new Float32Array(10 * 4), [10, 4]);
  assert.deepEqual(g.gather(emb, ids).shape, ['batch', 'seq', 4]);
  assert.deepEqual(
    g.matmul(g.input('a', 'float32', [2, 1, 3, 5]), g.input('bb', 'float32', [4, 5, 6])).shape,
    [2, 4, 3, 6],
  );
  assert.equal(g.cast(ids, 'float32').dtype, 'float32');
  g.output(h, 'y');
  assert.equal(g.outputs[0].name, 'y');
});

test('a shape mismatch names both tensors', () => {
  const g = new GraphBuilder('bad');
  const a = g.input('alpha', 'float32', [2, 3]);
  const b = g.input('beta', 'float32', [4, 3]);
  assert.throws(() => g.add(a, b), /alpha.*\[2, 3\].*beta.*\[4, 3\]/);
  assert.throws(() => g.matmul(a, b), /MatMul: inner dims differ: alpha.*beta/);
  const c = g.input('gamma', 'float64', [2, 3]);
  assert.throws(() => g.mul(a, c), /dtypes differ: alpha.*gamma/);
  assert.throws(() => g.input('alpha', 'float32', [1]), /already used/);
});

test('serializes to a ModelProto that decodes back, with big tensors as external data', () => {
  const g = new GraphBuilder('ser');
  const x = g.input('x', 'float32', ['n', 4]);
  const big = g.initializer('big', new Float32Array(4 * 1024).fill(1.5), [4, 1024]);
  const small = g.initializer('small', [1, 2, 3, 4], [4]);
  g.output(g.softmax(g.matmul(g.add(x, small), big)), 'probs');
  const { model, externalData } = toModelProto(g, { externalDataThreshold: 4096 });
  const m = onnx.ModelProto.decode(model);
  assert.equal(Number(m.opsetImport[0].version), 18);
  assert.deepEqual(
    m.graph?.node?.map((n) => n.opType),
    ['Add', 'MatMul', 'Softmax', 'Identity'],
  );
  const inits = m.graph?.initializer ?? [];
  const bigProto = inits.find((t) => t.name === 'big');
  assert.equal(bigProto?.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
  assert.equal(externalData.length, 1);
  assert.equal(externalData[0].data.byteLength, 4 * 1024 * 4);
  assert.equal(new Float32Array(externalData[0].data.buffer, 0, 1)[0], 1.5);
  const smallProto = inits.find((t) => t.name === 'small');
  assert.deepEqual([...new Float32Array(new Uint8Array(smallProto?.rawData ?? []).buffer)], [1, 2, 3, 4]);
  assert.equal(m.graph?.input?.[0].type?.tensorType?.shape?.dim?.[0].dimParam, 'n');
  const text = dumpGraph(g);
  assert.match(text, /%x: float32\[n, 4\]/);
  assert.match(text, /= Softmax\(%MatMul_\d+\) \{axis=-1\}/);
});
