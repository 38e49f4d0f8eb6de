// Percentile-bootstrap intervals: they bracket the estimate, narrow with more data, and repeat with a seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapInterval } from './bootstrap.js';
import { mulberry32 } from './random.js';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('the generator is seeded: same seed, same sequence; another seed, another one; values in [0, 1)', () => {
  const a = Array.from({ length: 5 }, mulberry32(42));
  const b = Array.from({ length: 5 }, mulberry32(42));
  const c = Array.from({ length: 5 }, mulberry32(43));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const r = mulberry32(7);
  for (let i = 0; i < 10_000; i++) {
    const v = r();
    assert.ok(v >= 0 && v < 1);
  }
});

test('mulberry32(42) gives the pinned first values (the same as the engine copy in autograd)', () => {
  const r = mulberry32(42);
  assert.deepEqual(
    Array.from({ length: 3 }, () => r()),
    [0.6011037519201636, 0.44829055899754167, 0.8524657934904099],
  );
});

test('the interval of an accuracy holds the estimate and is close to the normal approximation', () => {
  // 1000 records, 700 right: accuracy 0.7, standard error sqrt(.7 · .3 / 1000) ≈ 0.0145, 95% ≈ ±0.028
  const right = Array.from({ length: 1000 }, (_, i) => (i % 10 < 7 ? 1 : 0));
  const r = bootstrapInterval(right, mean, { resamples: 2000, seed: 3 });
  assert.equal(r.estimate, 0.7);
  assert.ok(r.low < 0.7 && r.high > 0.7);
  assert.ok(Math.abs(0.7 - r.low - 0.028) < 0.006, `low ${r.low}`);
  assert.ok(Math.abs(r.high - 0.7 - 0.028) < 0.006, `high ${r.high}`);
});

test('the same seed gives the same interval, and a lower level a narrower one', () => {
  const xs = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 3);
  assert.deepEqual(bootstrapInterval(xs, mean, { seed: 9 }), bootstrapInterval(xs, mean, { seed: 9 }));
  const wide = bootstrapInterval(xs, mean, { seed: 9 });
  const narrow = bootstrapInterval(xs, mean, { seed: 9, level: 0.5 });
  assert.ok(narrow.high - narrow.low < wide.high - wide.low);
});

test('constant data give a zero-width interval', () => {
  assert.deepEqual(bootstrapInterval([2, 2, 2], mean, { resamples: 50 }), { estimate: 2, low: 2, high: 2 });
});

test('bad input is refused', () => {
  assert.throws(() => bootstrapInterval([], mean), /no items/);
  assert.throws(() => bootstrapInterval([1], mean, { resamples: 0 }), /resamples/);
  assert.throws(() => bootstrapInterval([1], mean, { level: 1 }), /level/);
  assert.throws(() => bootstrapInterval([1], () => Number.NaN), /NaN/);
});
