// The in-graph optimizers against straightforward host implementations of PyTorch's rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostTensor } from '@emoverse/runtime';
import { rng } from './gradcheck.js';
import { adamw, sgd } from './optim.js';
import type { TrainStepSpec } from './train-step.js';
import { buildTrainStep } from './train-step.js';
import { NonFiniteLossError, Trainer } from './trainer.js';

const f32 = (data: number[], dims: number[]): HostTensor => ({
  dtype: 'float32',
  dims,
  data: Float32Array.from(data),
});

/** loss = mean((x·w + b − y)²) over a batch: gradients known in closed form. */
function linear(opts: Partial<TrainStepSpec>, batch = 4): TrainStepSpec {
  return {
    params: {
      w: { data: Float32Array.from([0.5, -0.3, 0.8]), shape: [3, 1] },
      b: { data: Float32Array.of(0.1), shape: [1] },
    },
    forward: (g, p) => {
      const x = g.input('x', 'float32', [batch, 3]);
      const y = g.input('y', 'float32', [batch, 1]);
      const d = g.sub(g.add(g.matmul(x, p.w), p.b), y);
      return g.reduceMean(g.mul(d, d), [0, 1], false);
    },
    ...opts,
  };
}

function hostGrad(w: number[], b: number, x: number[][], y: number[]): { gw: number[]; gb: number } {
  const n = x.length;
  const gw = [0, 0, 0];
  let gb = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i][0] * w[0] + x[i][1] * w[1] + x[i][2] * w[2] + b - y[i];
    for (let j = 0; j < 3; j++) gw[j] += (2 * d * x[i][j]) / n;
    gb += (2 * d) / n;
  }
  return { gw, gb };
}

function batchOf(seed: number, n = 4): { x: number[][]; y: number[]; feeds: Record<string, HostTensor> } {
  const r = rng(seed);
  const x = [...Array(n)].map(() => [r() * 2 - 1, r() * 2 - 1, r() * 2 - 1]);
  const y = [...Array(n)].map(() => r() * 2 - 1);
  return { x, y, feeds: { x: f32(x.flat(), [n, 3]), y: f32(y, [n, 1]) } };
}

const close = (a: ArrayLike<number>, b: number[], tol = 1e-5) => {
  for (const [i, v] of b.entries())
    assert.ok(Math.abs(a[i] - v) <= tol * (1 + Math.abs(v)), `${a[i]} vs ${v} at ${i}`);
};

test('AdamW matches PyTorch semantics (decoupled decay, bias correction) over 3 steps, with clipping', async () => {
  const cfg = adamw({ lr: 0.05, weightDecay: 0.1, decay: (n) => n === 'w' });
  const maxNorm = 0.5;
  const trainer = await Trainer.create(buildTrainStep(linear({ optimizer: cfg, clipGradNorm: maxNorm })), {
    ep: 'cpu',
    intraOpThreads: 1,
  });
  let w = [0.5, -0.3, 0.8];
  let b = 0.1;
  const m = [0, 0, 0, 0];
  const v = [0, 0, 0, 0];
  for (let t = 1; t <= 3; t++) {
    const { x, y, feeds } = batchOf(t);
    const { gw, gb } = hostGrad(w, b, x, y);
    const norm = Math.sqrt([...gw, gb].reduce((s, q) => s + q * q, 0));
    const coef = Math.min(1, maxNorm / (norm + 1e-6));
    const grads = [...gw, gb].map((q) => q * coef);
    const r = await trainer.step(feeds);
    assert.ok(Math.abs(r.gradNorm - norm) < 1e-5 * (1 + norm));
    const p = [...w, b];
    for (let i = 0; i < 4; i++) {
      if (i < 3) p[i] *= 1 - cfg.lr * cfg.weightDecay;
      m[i] = cfg.beta1 * m[i] + (1 - cfg.beta1) * grads[i];
      v[i] = cfg.beta2 * v[i] + (1 - cfg.beta2) * grads[i] ** 2;
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - cfg.beta2 ** t) + cfg.eps;
      p[i] -= (cfg.lr / (1 - cfg.beta1 ** t)) * (m[i] / denom);
    }
    w = p.slice(0, 3);
    b = p[3];
    assert.equal(r.step, t);
  }
  const st = await trainer.state();
  close(st.w.data as Float32Array, w);
  close(st.b.data as Float32Array, [b]);
  const slots = await trainer.state(['m/w', 'v/b']);
  close(slots['m/w'].data as Float32Array, m.slice(0, 3));
  close(slots['v/b'].data as Float32Array, [v[3]]);
  await trainer.release();
});

test('SGD with momentum matches torch.optim.SGD', async () => {
  const cfg = sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  const trainer = await Trainer.create(buildTrainStep(linear({ optimizer: cfg })), {
    ep: 'cpu',
    intraOpThreads: 1,
  });
  const p = [0.5, -0.3, 0.8, 0.1];
  const buf = [0, 0, 0, 0];
  for (let t = 1; t <= 3; t++) {
    const { x, y, feeds } = batchOf(10 + t);
    const { gw, gb } = hostGrad(p.slice(0, 3), p[3], x, y);
    const grads = [...gw, gb];
    for (let i = 0; i < 4; i++) {
      const d = grads[i] + cfg.weightDecay * p[i];
      buf[i] = t === 1 ? d : cfg.momentum * buf[i] + d;
      p[i] -= cfg.lr * buf[i];
    }
    await trainer.step(feeds);
  }
  const st = await trainer.state();
  close(st.w.data as Float32Array, p.slice(0, 3));
  close(st.b.data as Float32Array, [p[3]]);
  await trainer.release();
});

test('gradient accumulation over 2 micro-batches equals one step on the whole batch', async () => {
  const opt = adamw({ lr: 0.05 });
  const whole = await Trainer.create(buildTrainStep(linear({ optimizer: opt }, 4)), {
    ep: 'cpu',
    intraOpThreads: 1,
  });
  const micro = await Trainer.create(buildTrainStep(linear({ optimizer: opt, microBatches: 2 }, 2)), {
    ep: 'cpu',
    intraOpThreads: 1,
  });
  for (let t = 1; t <= 2; t++) {
    const { x, y, feeds } = batchOf(20 + t);
    await whole.step(feeds);
    const half = (lo: number) => ({
      x: f32(x.slice(lo, lo + 2).flat(), [2, 3]),
      y: f32(y.slice(lo, lo + 2), [2, 1]),
    });
    const r1 = await micro.step(half(0));
    assert.equal(r1.applied, false);
    const r2 = await micro.step(half(2));
    assert.equal(r2.applied, true);
    assert.equal(r2.step, t);
  }
  const a = await whole.state();
  const b = await micro.state();
  close(b.w.data as Float32Array, [...(a.w.data as Float32Array)]);
  close(b.b.data as Float32Array, [...(a.b.data as Float32Array)]);
  await whole.release();
  await micro.release();
});

test('loss scaling: a scaled backward gives the same update; an overflow is caught, not applied', async () => {
  const plain = await Trainer.create(buildTrainStep(linear({ optimizer: sgd({ lr: 0.1 }) })), { ep: 'cpu' });
  const scaled = await Trainer.create(
    buildTrainStep(linear({ optimizer: sgd({ lr: 0.1 }), lossScaling: true })),
    {
      ep: 'cpu',
      onNonFinite: 'skip',
    },
  );
  const { feeds } = batchOf(31);
  await plain.step(feeds);
  await scaled.step(feeds, { lossScale: 1024 });
  const before = await scaled.state();
  close((await plain.state()).w.data as Float32Array, [...(before.w.data as Float32Array)]);
  const r = await scaled.step(feeds, { lossScale: Number.POSITIVE_INFINITY });
  assert.equal(r.finite, false);
  assert.equal(r.applied, false);
  assert.equal(r.step, 1);
  assert.deepEqual((await scaled.state()).w.data, before.w.data);
  await plain.release();
  await scaled.release();
});

test('a NaN loss is reported with its step and never written to the parameters', async () => {
  for (const worker of [false, true]) {
    const trainer = await Trainer.create(buildTrainStep(linear({})), { ep: 'cpu', worker });
    await trainer.step(batchOf(41).feeds);
    const before = await trainer.state();
    const bad = batchOf(42);
    (bad.feeds.y.data as Float32Array)[2] = Number.NaN;
    await assert.rejects(trainer.step(bad.feeds), (e: unknown) => {
      assert.ok(e instanceof NonFiniteLossError);
      assert.equal(e.step, 2);
      assert.match(e.message, /non-finite loss at step 2/);
      return true;
    });
    const after = await trainer.state();
    assert.deepEqual(after.w.data, before.w.data);
    assert.equal(trainer.stepCount, 1);
    const ok = await trainer.step(batchOf(43).feeds);
    assert.equal(ok.step, 2);
    await trainer.release();
  }
});

test('flat optimizer state gives the same updates as per-parameter state', async () => {
  const { gptForward, gptInitParams } = await import('./reference-gpt.js');
  const cfg = { vocab: 16, dModel: 16, nLayers: 1, nHeads: 2, seq: 6, batch: 2 };
  const rand = rng(61);
  const ids = () => BigInt64Array.from({ length: 12 }, () => BigInt(Math.floor(rand() * 16)));
  const batches = [...Array(4)].map(() => ({
    tokens: { dtype: 'int64' as const, dims: [2, 6], data: ids() },
    targets: { dtype: 'int64' as const, dims: [2, 6], data: ids() },
  }));
  for (const optimizer of [
    adamw({ lr: 0.01, weightDecay: 0.1, decay: (n) => n.includes('.w') }),
    sgd({ momentum: 0.9 }),
  ]) {
    const make = (flatOptimizerState: boolean) =>
      Trainer.create(
        buildTrainStep({
          params: gptInitParams(cfg, 2),
          forward: gptForward(cfg),
          optimizer,
          clipGradNorm: 0.5,
          microBatches: 2,
          flatOptimizerState,
        }),
        { ep: 'cpu', intraOpThreads: 1 },
      );
    const [perParam, flat] = [await make(false), await make(true)];
    assert.ok(flat.trainStep.stateNames.includes(optimizer.type === 'adamw' ? 'v' : 'momentum'));
    for (const b of batches) {
      const [r1, r2] = [await perParam.step(b), await flat.step(b)];
      assert.ok(Math.abs(r1.loss - r2.loss) < 1e-6 && Math.abs(r1.gradNorm - r2.gradNorm) < 1e-5);
    }
    const [a, b] = [await perParam.state(), await flat.state()];
    // Only the order of float additions differs (the norm over one vector vs per tensor); Adam
    // magnifies that noise where a gradient is near zero, hence 1e-5 rather than float epsilon.
    for (const name of Object.keys(a))
      close(b[name].data as Float32Array, [...(a[name].data as Float32Array)], 1e-5);
    await perParam.release();
    await flat.release();
  }
});

test('fp16 compute with float32 master weights and a loss scale trains', async () => {
  const H = 8;
  const step = buildTrainStep({
    params: {
      w1: { data: Float32Array.from({ length: 2 * H }, (_, i) => Math.sin(i)), shape: [2, H] },
      w2: { data: Float32Array.from({ length: 2 * H }, (_, i) => Math.cos(i) * 0.5), shape: [H, 2] },
    },
    forward: (g, p) => {
      // The forward runs in float16 on casts of the float32 parameters; the gradients come back
      // through the Casts as float32, and the update happens on the float32 masters.
      const x = g.cast(g.input('x', 'float32', [4, 2]), 'float16');
      const y = g.input('y', 'int64', [4]);
      const h = g.tanh(g.matmul(x, g.cast(p.w1, 'float16')));
      return g.softmaxCrossEntropyLoss(g.matmul(h, g.cast(p.w2, 'float16')), y);
    },
    optimizer: adamw({ lr: 0.05 }),
    lossScaling: true,
  });
  const trainer = await Trainer.create(step, { ep: 'cpu', intraOpThreads: 1 });
  const batch = {
    x: f32([1, 0, 0, 1, 1, 1, 0, 0], [4, 2]),
    y: { dtype: 'int64' as const, dims: [4], data: BigInt64Array.from([0n, 1n, 1n, 0n]) },
  };
  const first = await trainer.step(batch, { lossScale: 1024 });
  let last = first;
  for (let i = 0; i < 20; i++) last = await trainer.step(batch, { lossScale: 1024 });
  assert.ok(last.loss < first.loss * 0.8, `${first.loss} -> ${last.loss}`);
  const w1 = (await trainer.state()).w1;
  assert.equal(w1.dtype, 'float32');
  await trainer.release();
});
