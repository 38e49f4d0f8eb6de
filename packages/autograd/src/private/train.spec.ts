// End-to-end: models built with the builder train to a clearly lower loss on ORT's CPU EP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostTensor } from '@emoverse/runtime';
import { rng } from './gradcheck.js';
import { adamw } from './optim.js';
import { gptForward, gptInitParams } from './reference-gpt.js';
import { buildTrainStep } from './train-step.js';
import { Trainer } from './trainer.js';

test('an MLP learns XOR-like data: loss falls from ~0.69 to under 0.15', async () => {
  const rand = rng(5);
  const H = 16;
  const init = (n: number, s: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);
  const step = buildTrainStep({
    name: 'mlp',
    params: {
      w1: { data: init(2 * H, 1), shape: [2, H] },
      b1: { data: new Float32Array(H), shape: [H] },
      w2: { data: init(H * 2, 0.5), shape: [H, 2] },
      b2: { data: new Float32Array(2), shape: [2] },
    },
    forward: (g, p) => {
      const x = g.input('x', 'float32', [64, 2]);
      const y = g.input('y', 'int64', [64]);
      const h = g.tanh(g.add(g.matmul(x, p.w1), p.b1));
      return g.softmaxCrossEntropyLoss(g.add(g.matmul(h, p.w2), p.b2), y);
    },
    optimizer: adamw({ lr: 0.03, weightDecay: 0 }),
    clipGradNorm: 5,
  });
  const trainer = await Trainer.create(step, { ep: 'cpu', intraOpThreads: 1 });
  const batch = (): Record<string, HostTensor> => {
    const x = new Float32Array(128);
    const y = new BigInt64Array(64);
    for (let i = 0; i < 64; i++) {
      x[2 * i] = rand() * 2 - 1;
      x[2 * i + 1] = rand() * 2 - 1;
      y[i] = x[2 * i] * x[2 * i + 1] > 0 ? 1n : 0n;
    }
    return { x: { dtype: 'float32', dims: [64, 2], data: x }, y: { dtype: 'int64', dims: [64], data: y } };
  };
  const first = (await trainer.step(batch())).loss;
  let last = 0;
  for (let i = 0; i < 300; i++) last = (await trainer.step(batch())).loss;
  await trainer.release();
  console.log(`MLP loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.ok(first > 0.6, `initial loss ${first}`);
  assert.ok(last < 0.15, `final loss ${last}`);
});

test('a small transformer learns a next-token rule: loss falls below a third of its start', async () => {
  const cfg = { vocab: 12, dModel: 32, nLayers: 2, nHeads: 2, seq: 8, batch: 8 };
  const step = buildTrainStep({
    name: 'tiny_gpt',
    params: gptInitParams(cfg, 3),
    forward: gptForward(cfg),
    optimizer: adamw({ lr: 1e-2, weightDecay: 0.01 }),
    clipGradNorm: 1,
  });
  const trainer = await Trainer.create(step, { ep: 'cpu', intraOpThreads: 1, worker: true });
  const rand = rng(9);
  // Sequences count up by a per-sequence stride mod vocab: the next token follows from the
  // previous two, which needs attention across positions.
  const batch = (): Record<string, HostTensor> => {
    const n = cfg.batch * cfg.seq;
    const tokens = new BigInt64Array(n);
    const targets = new BigInt64Array(n);
    for (let b = 0; b < cfg.batch; b++) {
      const start = Math.floor(rand() * cfg.vocab);
      const stride = 1 + Math.floor(rand() * 3);
      for (let t = 0; t < cfg.seq; t++) {
        tokens[b * cfg.seq + t] = BigInt((start + stride * t) % cfg.vocab);
        targets[b * cfg.seq + t] = t === 0 ? -100n : BigInt((start + stride * (t + 1)) % cfg.vocab);
      }
    }
    const dims = [cfg.batch, cfg.seq];
    return {
      tokens: { dtype: 'int64', dims, data: tokens },
      targets: { dtype: 'int64', dims, data: targets },
    };
  };
  const first = (await trainer.step(batch())).loss;
  let last = 0;
  for (let i = 0; i < 150; i++) last = (await trainer.step(batch())).loss;
  await trainer.release();
  console.log(`tiny GPT loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.ok(first > 2, `initial loss ${first}`);
  assert.ok(last < first / 3, `final loss ${last} vs initial ${first}`);
});
