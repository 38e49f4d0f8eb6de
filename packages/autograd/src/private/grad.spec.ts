import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '@emoverse/onnx';
import { gradients } from './grad.js';

test('an op without a VJP fails at build time, naming op and node', () => {
  const g = new GraphBuilder('novjp');
  const x = g.input('x', 'float32', [4]);
  const [y] = g.node('Softplus', [x], {}, [{ dtype: 'float32', shape: [4] }]);
  const loss = g.sumAll(y);
  assert.throws(() => gradients(g, loss, [x]), /no VJP for op Softplus \(node Softplus_\d+/);
});

test('ops off the path need no VJP, and an unused parameter gets zeros', () => {
  const g = new GraphBuilder('offpath');
  const x = g.input('x', 'float32', [4]);
  const w = g.input('w', 'float32', [4]);
  const unused = g.input('u', 'float32', [2]);
  g.node('Softplus', [x], {}, [{ dtype: 'float32', shape: [4] }]); // depends on x only
  const loss = g.sumAll(g.mul(x, w));
  const [gw, gu] = gradients(g, loss, [w, unused]);
  assert.deepEqual(gw.shape, [4]);
  assert.deepEqual(gu.shape, [2]);
});

test('a non-scalar loss needs a seed', () => {
  const g = new GraphBuilder('seed');
  const x = g.input('x', 'float32', [4]);
  assert.throws(() => gradients(g, g.mul(x, 2), [x]), /not a scalar/);
});
