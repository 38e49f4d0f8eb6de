import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify } from './classify.js';

describe('classify', () => {
  it('picks the most likely label and renormalises over the label set', () => {
    const c = classify([Math.log(0.1), Math.log(0.3), Math.log(0.1)], ['a', 'b', 'c']);
    assert.equal(c.label, 'b');
    assert.deepEqual(
      c.probabilities.map((p) => p.label),
      ['a', 'b', 'c'],
    );
    assert.ok(Math.abs(c.probabilities[1].probability - 0.6) < 1e-12);
    assert.ok(Math.abs(c.probabilities.reduce((s, p) => s + p.probability, 0) - 1) < 1e-12);
  });

  it('is stable for very negative log-likelihoods', () => {
    const c = classify([-5000, -5001], ['x', 'y']);
    assert.equal(c.label, 'x');
    assert.ok(Math.abs(c.probabilities[0].probability - 1 / (1 + Math.exp(-1))) < 1e-12);
  });

  it('falls back to uniform when no label has a finite score, and checks lengths', () => {
    const c = classify([Number.NEGATIVE_INFINITY, Number.NaN], ['x', 'y']);
    assert.deepEqual(
      c.probabilities.map((p) => p.probability),
      [0.5, 0.5],
    );
    assert.throws(() => classify([1], ['x', 'y']), RangeError);
  });
});
