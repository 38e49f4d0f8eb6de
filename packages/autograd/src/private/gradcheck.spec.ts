// gradCheck itself: it passes a correct gradient and fails on a wrong, NaN or infinite one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradCheck } from './gradcheck.js';

test('a correct gradient passes and every element is checked', async () => {
  const r = await gradCheck([{ name: 'x', shape: [2, 3] }], (g, [x]) => g.mul(x, x));
  assert.equal(r.checked, 6);
  assert.ok(r.maxAbsErr < 1e-6, `max abs error ${r.maxAbsErr}`);
});

test('a NaN finite difference fails, though the analytic gradient is finite (log of a negative number)', async () => {
  await assert.rejects(
    gradCheck([{ name: 'x', shape: [1], values: [-1] }], (g, [x]) => g.log(x)),
    /gradient of x\[0\] is -?[\d.e-]+, finite differences give NaN: not finite/,
  );
});

test('an infinite analytic gradient fails (sqrt at 0)', async () => {
  await assert.rejects(
    gradCheck([{ name: 'x', shape: [1], values: [0] }], (g, [x]) => g.sqrt(x)),
    /gradient of x\[0\] is -?Infinity.*not finite/,
  );
});
