import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { learningRate, stageLrSchedule } from './lr-schedule.js';

describe('lr schedule', () => {
  const s = { peakLr: 1e-5, warmupSteps: 4, totalSteps: 14, minLr: 1e-6 };
  const lrs = Array.from({ length: 14 }, (_, i) => learningRate(i, s));

  it('warms up linearly to the peak', () => {
    const expected = [0.25e-5, 0.5e-5, 0.75e-5, 1e-5];
    for (const [i, e] of expected.entries())
      assert.ok(Math.abs(lrs[i] - e) < 1e-18, `step ${i}: ${lrs[i]} vs ${e}`);
  });

  it('decays by a cosine from the peak towards the floor, reached just after the last step', () => {
    assert.equal(lrs[4], 1e-5);
    for (let i = 5; i < 14; i++) assert.ok(lrs[i] < lrs[i - 1], `decreasing at ${i}`);
    // 10 decay steps: step 13 is at p = 0.9, above the floor
    const at = (p: number) => 1e-6 + (9e-6 * (1 + Math.cos(Math.PI * p))) / 2;
    assert.ok(Math.abs(lrs[13] - at(0.9)) < 1e-18 && lrs[13] > 1e-6);
    assert.ok(
      Math.abs(lrs[9] - 5.5e-6) < 1e-15,
      'halfway through the decay (p = 0.5) the cosine is at the midpoint',
    );
    assert.equal(learningRate(14, s), 1e-6, 'past the end: the floor');
    assert.equal(learningRate(100, s), 1e-6);
  });

  it('handles no warm-up and tiny stages, and rejects negative steps', () => {
    assert.equal(learningRate(0, { ...s, warmupSteps: 0 }), 1e-5);
    assert.equal(
      learningRate(0, { peakLr: 1, warmupSteps: 0, totalSteps: 1, minLr: 0 }),
      1,
      'a one-step stage trains',
    );
    assert.equal(learningRate(0, { peakLr: 1, warmupSteps: 1, totalSteps: 1, minLr: 0 }), 1);
    assert.equal(learningRate(1, { peakLr: 1, warmupSteps: 1, totalSteps: 1, minLr: 0 }), 0);
    assert.throws(() => learningRate(-1, s), RangeError);
  });

  it('takes peak and floor from the recipe, lengths from the stage plan', () => {
    assert.deepEqual(
      stageLrSchedule(
        { optimizer: { lr: 2e-4 }, schedule: { minLrRatio: 0.1 } },
        { totalSteps: 9, warmupSteps: 2 },
      ),
      {
        peakLr: 2e-4,
        warmupSteps: 2,
        totalSteps: 9,
        minLr: 2e-5,
      },
    );
  });
});
