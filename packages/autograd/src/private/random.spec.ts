// Pins the engine's mulberry32 to the values of the domain's copy (packages/metrics/src/private/random.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from './random.js';

test('mulberry32(42) gives the pinned first values (the same as the domain copy in metrics)', () => {
  const r = mulberry32(42);
  assert.deepEqual(
    Array.from({ length: 3 }, () => r()),
    [0.6011037519201636, 0.44829055899754167, 0.8524657934904099],
  );
});
