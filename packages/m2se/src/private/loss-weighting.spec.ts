import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLossWeighting, exampleLossScales, weightedLoss } from './loss-weighting.js';
import type { TaskName } from './tasks.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const sum = (w: Partial<Record<TaskName, number>>) => Object.values(w).reduce((a, b) => a + (b ?? 0), 0);

describe('loss weighting', () => {
  it('none: all weights stay 1', () => {
    const w = createLossWeighting({ mode: 'none' }, ['MSA', 'ER']);
    w.observe('MSA', 3);
    w.observe('ER', 0.1);
    w.endStep();
    assert.deepEqual(w.weights(), { MSA: 1, ER: 1 });
  });

  it('dwa: weights 1 for the first two periods, then K softmax(r / T) of the loss ratios', () => {
    const w = createLossWeighting({ mode: 'dwa', temperature: 2, period: 1 }, ['MSA', 'ER']);
    w.observe('MSA', 2);
    w.observe('ER', 1);
    w.endStep();
    assert.deepEqual(w.weights(), { MSA: 1, ER: 1 });
    w.observe('MSA', 1); // halved: r = 0.5
    w.observe('ER', 1); // flat: r = 1, the harder task
    w.endStep();
    const { MSA, ER } = w.weights() as { MSA: number; ER: number };
    const z = Math.exp(0.25) + Math.exp(0.5);
    close(MSA, (2 * Math.exp(0.25)) / z);
    close(ER, (2 * Math.exp(0.5)) / z);
    assert.ok(ER > MSA, 'the task whose loss falls slower weighs more');
    close(MSA + ER, 2);
  });

  it('dwa: averages over a period of steps and carries the last average of an unsampled task', () => {
    const w = createLossWeighting({ mode: 'dwa', temperature: 1, period: 2 }, ['MSA', 'ER', 'ECPE']);
    const step = (losses: Partial<Record<TaskName, number>>) => {
      for (const [t, l] of Object.entries(losses)) w.observe(t as TaskName, l as number);
      w.endStep();
    };
    step({ MSA: 4, ER: 2, ECPE: 1 });
    step({ MSA: 2, ER: 2 }); // period 1: MSA 3, ER 2, ECPE 1
    step({ MSA: 1.5, ER: 1 });
    assert.deepEqual(w.weights(), { MSA: 1, ER: 1, ECPE: 1 }, 'weights change only at period ends');
    step({ MSA: 1.5, ER: 1 }); // period 2: MSA 1.5, ER 1, ECPE carried 1
    const r = [0.5, 0.5, 1];
    const z = r.reduce((a, x) => a + Math.exp(x), 0);
    const got = w.weights();
    close(got.MSA!, (3 * Math.exp(0.5)) / z);
    close(got.ECPE!, (3 * Math.exp(1)) / z);
    close(sum(got), 3);
  });

  it('uncertainty: w_k proportional to 1 / loss level (sigma_k^2 = EMA of L_k), normalised to K', () => {
    const w = createLossWeighting({ mode: 'uncertainty', ema: 0.5 }, ['MSA', 'ER', 'FER']);
    w.observe('MSA', 2);
    w.endStep();
    assert.deepEqual(w.weights(), { MSA: 1, ER: 1, FER: 1 }, 'unseen tasks take the mean raw weight');
    w.observe('ER', 0.5);
    w.observe('FER', 1);
    w.endStep();
    // bias-corrected EMA after one update each = the loss itself: MSA 2, ER 0.5, FER 1
    const got = w.weights();
    close(got.ER! / got.MSA!, 4);
    close(got.FER! / got.MSA!, 2);
    close(sum(got), 3);
    w.observe('ER', 1.5); // EMA of ER: (0.5 * 0.25 + 0.5 * 1.5) / (1 - 0.5^2) = 0.875 / 0.75
    w.endStep();
    close(w.weights().ER! / w.weights().MSA!, 2 / (0.875 / 0.75));
  });

  it('resumes exactly from a JSON round trip of its state', () => {
    for (const config of [
      { mode: 'dwa' as const, temperature: 2, period: 3 },
      { mode: 'uncertainty' as const, ema: 0.9 },
    ]) {
      const losses = Array.from({ length: 20 }, (_, i) => ({
        MSA: 3 / (i + 1),
        ER: 2 - i * 0.05,
        FER: 1 + (i % 3),
      }));
      const run = (from: number, w = createLossWeighting(config, ['MSA', 'ER', 'FER'])) => {
        const log: string[] = [];
        for (let i = from; i < losses.length; i++) {
          for (const [t, l] of Object.entries(losses[i])) w.observe(t as TaskName, l);
          w.endStep();
          log.push(JSON.stringify(w.weights()));
        }
        return log;
      };
      const full = run(0);
      const a = createLossWeighting(config, ['MSA', 'ER', 'FER']);
      for (let i = 0; i < 7; i++) {
        for (const [t, l] of Object.entries(losses[i])) a.observe(t as TaskName, l);
        a.endStep();
      }
      const saved = JSON.parse(JSON.stringify(a.state()));
      assert.deepEqual(
        run(7, createLossWeighting(config, ['MSA', 'ER', 'FER'], saved)),
        full.slice(7),
        config.mode,
      );
      assert.ok(new Set(full).size > 1, `${config.mode} weights moved`);
    }
  });

  it('rejects non-finite losses, foreign tasks and a state of another configuration', () => {
    const w = createLossWeighting({ mode: 'dwa', temperature: 2, period: 1 }, ['MSA', 'ER']);
    assert.throws(() => w.observe('MSA', Number.NaN), /loss of task MSA is NaN/);
    assert.throws(() => w.observe('ECPE', 1), /task ECPE is not in this stage/);
    assert.throws(() => createLossWeighting({ mode: 'none' }, ['MSA', 'ER'], w.state()), /cannot resume/);
    assert.throws(
      () => createLossWeighting({ mode: 'dwa', temperature: 2, period: 1 }, ['ER'], w.state()),
      /cannot resume/,
    );
  });

  it('turns weights into per-example loss scales and a weighted loss', () => {
    assert.deepEqual(
      exampleLossScales(['MSA', 'ER', 'ER', 'MSA'], { MSA: 0.5, ER: 1.5 }),
      [0.125, 0.375, 0.375, 0.125],
    );
    assert.equal(weightedLoss({ MSA: 2, ER: 1 }, { MSA: 0.5, ER: 1.5 }), (0.5 * 2 + 1.5 * 1) / 2);
  });
});
