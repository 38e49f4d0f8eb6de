import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { openFacePeak } from './compare.js';
import { OPENFACE_HEADER, readOpenFaceCsv, toOpenFaceRows, writeOpenFaceCsv } from './openface-csv.js';
import type { AuFrame } from './peaks.js';
import { AU_NAMES, zeroAus } from './types.js';

const shared = process.env.EMOVERSE_SHARED ?? resolve(import.meta.dirname, '../../../../../shared');

test('reads real OpenFace output: 288 frames, peak (eq. 1) at frame 257', () => {
  const rows = readOpenFaceCsv(readFileSync(join(shared, 'data/openface/reference/default.csv'), 'utf8'));
  assert.equal(rows.length, 288);
  assert.equal(rows[0].frame, 1);
  assert.equal(rows[1].timestamp, 0.067);
  assert.equal(rows[0].aus.AU20, 2.18);
  const peak = openFacePeak(rows)!;
  assert.equal(peak.frame, 257);
  assert.equal(peak.timestamp, 17.067);
});

test('writes OpenFace layout and reads it back; frames without a face get success = 0', () => {
  const aus = { ...zeroAus(), AU12: 2.5, AU45: 1.25 };
  const frames: AuFrame[] = [
    {
      index: 0,
      timeS: 0,
      personId: 0,
      confidence: 0.97,
      pose: { pitch: 0.1, yaw: -0.2, roll: 0.05 },
      aus,
      S_f: 3.75,
    },
    {
      index: 2,
      timeS: 2 / 15,
      personId: 1,
      confidence: 0.9,
      pose: { pitch: 0, yaw: 0, roll: 0 },
      aus,
      S_f: 3.75,
    },
  ];
  const sampled = [0, 1, 2].map((index) => ({ index, timeS: index / 15 }));
  const text = writeOpenFaceCsv(toOpenFaceRows(frames, sampled));
  const lines = text.trim().split('\n');
  assert.equal(lines[0], OPENFACE_HEADER.join(','));
  assert.deepEqual(OPENFACE_HEADER.slice(0, 5), ['frame', 'face_id', 'timestamp', 'confidence', 'success']);
  assert.deepEqual(
    OPENFACE_HEADER.slice(11),
    AU_NAMES.map((a) => `${a}_r`),
  );
  const back = readOpenFaceCsv(text);
  assert.deepEqual(
    back.map((r) => [r.frame, r.face_id, r.success]),
    [
      [1, 0, true],
      [2, 0, false],
      [3, 1, true],
    ],
  );
  assert.equal(back[0].aus.AU12, 2.5);
  assert.equal(back[0].pose.Ry, -0.2);
  assert.equal(back[2].timestamp, 0.133);
  assert.throws(() => readOpenFaceCsv('frame,timestamp\n1,0\n'), /missing column/);
});
