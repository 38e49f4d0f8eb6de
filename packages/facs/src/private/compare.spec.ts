import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWithOpenFace, mainFaceId, meanAbsoluteError, pearson } from './compare.js';
import type { OpenFaceRow } from './openface-csv.js';
import { zeroAus } from './types.js';

test('pearson and MAE', () => {
  assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
  assert.ok(Math.abs(pearson([1, 2, 3], [3, 2, 1]) + 1) < 1e-12);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  assert.equal(meanAbsoluteError([1, 2], [2, 4]), 1.5);
});

test('frames are paired by frame number, failed frames and other faces are skipped', () => {
  const row = (frame: number, v: number, success = true, face_id = 0): OpenFaceRow => ({
    frame,
    face_id,
    timestamp: frame / 10,
    confidence: 1,
    success,
    pose: { Tx: 0, Ty: 0, Tz: 0, Rx: 0, Ry: 0, Rz: 0 },
    aus: { ...zeroAus(), AU12: v, AU25: 5 - v },
  });
  const ref = [row(1, 0), row(2, 1), row(3, 2), row(4, 3), row(5, 9, false)];
  const ours = [row(1, 0.5), row(2, 1.5), row(3, 2.5), row(4, 0, true, 7), row(4, 3.5), row(5, 0)];
  const cmp = compareWithOpenFace(ours, ref, { ours: 0, reference: 0 });
  assert.equal(cmp.matchedFrames, 4);
  const au12 = cmp.perAu.find((a) => a.au === 'AU12')!;
  assert.ok(Math.abs(au12.r - 1) < 1e-12);
  assert.ok(Math.abs(au12.mae - 0.5) < 1e-12);
  assert.ok(Math.abs(cmp.perAu.find((a) => a.au === 'AU25')!.r - 1) < 1e-12);
  assert.ok(Number.isNaN(cmp.perAu.find((a) => a.au === 'AU01')!.r));
  // People are numbered independently: our person 7 can be compared with OpenFace's face 0.
  const seven = [row(1, 0.5, true, 7), row(2, 1.5, true, 7), row(3, 2.5, true, 7), row(1, 9, true, 0)];
  assert.equal(mainFaceId(seven), 7);
  const paired = compareWithOpenFace(seven, ref, { ours: mainFaceId(seven), reference: mainFaceId(ref) });
  assert.equal(paired.matchedFrames, 3);
  assert.ok(Math.abs(paired.perAu.find((a) => a.au === 'AU12')!.r - 1) < 1e-12);
});
