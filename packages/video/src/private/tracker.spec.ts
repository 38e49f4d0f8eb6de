import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iou, PersonTracker } from './tracker.js';
import type { Box } from './types.js';

const desc = (k: number) => Float32Array.from({ length: 128 }, (_, i) => (i === k ? 1 : 0));

test('iou', () => {
  assert.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  assert.equal(iou([0, 0, 10, 10], [20, 20, 5, 5]), 0);
  assert.ok(Math.abs(iou([0, 0, 10, 10], [5, 0, 10, 10]) - 1 / 3) < 1e-9);
});

test('two people keep their ids while moving, and a returning person gets the old id back', async () => {
  const t = new PersonTracker();
  let described = 0;
  // People A (descriptor 0) on the left and B (descriptor 1) on the right.
  const people = (ds: number[]) => (i: number) => {
    described++;
    return Promise.resolve(desc(ds[i]));
  };
  const a0: Box = [10, 10, 100, 100];
  const b0: Box = [300, 10, 100, 100];
  const first = await t.assign(0, [a0, b0], people([0, 1]));
  assert.deepEqual(first, [0, 1]);
  // Moving a little: matched by overlap, no descriptor needed; order of detections does not matter.
  const second = await t.assign(
    0.1,
    [
      [305, 12, 100, 100],
      [14, 10, 100, 100],
    ],
    people([]),
  );
  assert.deepEqual(second, [1, 0]);
  assert.equal(described, 2);
  // A leaves for 3 s; B stays.
  for (let k = 1; k <= 30; k++) await t.assign(0.1 + k * 0.1, [[305, 12, 100, 100]], people([]));
  // A comes back somewhere else: no overlap, re-identified by descriptor.
  const back = await t.assign(
    3.5,
    [
      [305, 12, 100, 100],
      [150, 200, 90, 90],
    ],
    people([1, 0]),
  );
  assert.deepEqual(back, [1, 0]);
  // A stranger (descriptor 2) gets a new id.
  const stranger = await t.assign(3.6, [[500, 300, 80, 80]], () => Promise.resolve(desc(2)));
  assert.deepEqual(stranger, [2]);
  assert.equal(t.personCount, 3);
});
