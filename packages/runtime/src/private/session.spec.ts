import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '@emoverse/onnx';
import { parseEpList, probeExecutionProvider, selectExecutionProvider } from './ep.js';
import { Session } from './session.js';
import { WorkerSession } from './worker-session.js';

function counterGraph(): GraphBuilder {
  // state' = state + x; loss = sum(state')
  const g = new GraphBuilder('counter');
  const state = g.input('state', 'float32', [3]);
  const x = g.input('x', 'float32', [3]);
  const next = g.add(state, x);
  g.output(next, 'state.new');
  g.output(g.sumAll(next), 'total');
  return g;
}

test('the CPU EP is always available; a missing EP says why', async () => {
  const cpu = await probeExecutionProvider('cpu');
  assert.equal(cpu.available, true);
  const cuda = await probeExecutionProvider('cuda');
  if (!cuda.available) assert.ok((cuda.reason ?? '').length > 10, 'an unavailable EP carries a reason');
  const { ep, probes } = await selectExecutionProvider(['cuda', 'cpu']);
  assert.ok(ep === 'cuda' || ep === 'cpu');
  assert.equal(probes.at(-1)?.ep, ep);
  assert.deepEqual(parseEpList('webgpu, cpu'), ['webgpu', 'cpu']);
  assert.throws(() => parseEpList('tpu'), /unknown execution provider 'tpu'/);
});

test('a builder graph runs in a session and carried state advances', async () => {
  const s = await Session.create(counterGraph(), { ep: 'cpu', intraOpThreads: 1 });
  assert.equal(s.ep, 'cpu');
  const one = { dtype: 'float32' as const, dims: [3], data: Float32Array.from([1, 1, 1]) };
  const plain = await s.run({ state: one, x: one });
  assert.deepEqual([...(plain.total.data as Float32Array)], [6]);
  s.setState({ state: { dtype: 'float32', dims: [3], data: new Float32Array(3) } }, { 'state.new': 'state' });
  await s.step({ x: one }, ['total']);
  const r = await s.step({ x: one }, ['total']);
  assert.deepEqual([...(r.total.data as Float32Array)], [6]);
  // A rejected step (e.g. non-finite loss) leaves the state unchanged.
  await s.step({ x: one }, ['total'], () => false);
  const st = await s.readState();
  assert.deepEqual([...(st.state.data as Float32Array)], [2, 2, 2]);
  await s.release();
});

test('a worker session runs off the main thread and keeps the event loop free', async () => {
  const ws = await WorkerSession.create(counterGraph(), { ep: ['cpu'], intraOpThreads: 1 });
  assert.equal(ws.ep, 'cpu');
  assert.deepEqual([...ws.outputNames].sort(), ['state.new', 'total']);
  await ws.setState(
    { state: { dtype: 'float32', dims: [3], data: new Float32Array(3) } },
    { 'state.new': 'state' },
  );
  const nan = { dtype: 'float32' as const, dims: [3], data: Float32Array.from([Number.NaN, 0, 0]) };
  const bad = await ws.step({ x: nan }, ['total'], { requireFinite: ['total'] });
  assert.equal(bad.committed, false);
  const one = { dtype: 'float32' as const, dims: [3], data: Float32Array.from([1, 2, 3]) };
  const ok = await ws.step({ x: one }, ['total'], { requireFinite: ['total'] });
  assert.equal(ok.committed, true);
  assert.deepEqual([...(ok.fetched.total.data as Float32Array)], [6]);
  const state = await ws.readState();
  assert.deepEqual([...(state.state.data as Float32Array)], [1, 2, 3]);
  await ws.release();

  // A run long enough to matter (a chain of 256×256 MatMuls): timers keep firing meanwhile,
  // which a run on the main thread would prevent.
  const g = new GraphBuilder('slow');
  let x = g.input('x', 'float32', [256, 256]);
  for (let i = 0; i < 40; i++) x = g.tanh(g.matmul(x, x));
  g.output(x, 'y');
  const slow = await WorkerSession.create(g, { ep: 'cpu', intraOpThreads: 1 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const started = performance.now();
  await slow.run({ x: { dtype: 'float32', dims: [256, 256], data: new Float32Array(256 * 256).fill(0.01) } });
  const elapsed = performance.now() - started;
  clearInterval(timer);
  await slow.release();
  assert.ok(ticks >= 2, `only ${ticks} timer ticks during a ${elapsed.toFixed(0)} ms run`);
});

test('big initializers travel as in-memory external data and load in ORT', async () => {
  const g = new GraphBuilder('ext');
  const x = g.input('x', 'float32', [2, 512]);
  const w = new Float32Array(512 * 1024);
  for (let i = 0; i < 512; i++) w[i * 1024 + (i % 1024)] = 2; // 2·(column i of an identity)
  const big = g.initializer('big', w, [512, 1024]);
  g.output(g.reduceSum(g.matmul(x, big), [1], false), 'y');
  const s = await Session.create(g, { ep: 'cpu', intraOpThreads: 1 });
  const xs = new Float32Array(1024).fill(1);
  const r = await s.run({ x: { dtype: 'float32', dims: [2, 512], data: xs } });
  assert.deepEqual([...(r.y.data as Float32Array)], [1024, 1024]);
  await s.release();
});
