// landmark-reuse.ts: the similarity fit and when face-api's last result may be carried to a new frame.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitSimilarity, LandmarkReuse, MAX_AGE_S } from './landmark-reuse.js';
import type { Box } from './types.js';

/** A 478-point "mesh" spread over a 200-pixel face, deterministic. */
const baseMesh = Array.from({ length: 478 }, (_, i) => [100 + ((i * 37) % 200), 50 + ((i * 91) % 200), 0]);

/** The mesh scaled by `k`, rotated by `angle` and shifted by (dx, dy). */
function moved(mesh: number[][], k: number, angle: number, dx: number, dy: number): number[][] {
  const [c, s] = [Math.cos(angle) * k, Math.sin(angle) * k];
  return mesh.map(([x, y, z]) => [c * x - s * y + dx, s * x + c * y + dy, z]);
}

const box: Box = [100, 50, 200, 200];
const landmarks = [
  { x: 150, y: 100 },
  { x: 250, y: 120 },
];

function seeded(mesh: number[][]) {
  const r = new LandmarkReuse<string>();
  const memory = {
    landmarks: { value: landmarks, mesh, timeS: 0 },
    expression: { value: 'happy', mesh, timeS: 0 },
  };
  r.remember([{ box, memory, ran: { landmarks: true, expression: true } }]);
  return r;
}

const withMoved = (points: number[], dy: number) =>
  baseMesh.map((p, i) => (points.includes(i) ? [p[0], p[1] + dy, 0] : p));

test('fitSimilarity recovers a shift, scale and rotation', () => {
  const s = fitSimilarity(baseMesh, moved(baseMesh, 1.02, 0.05, 3, -4));
  assert.ok(Math.abs(Math.hypot(s.a, s.b) - 1.02) < 1e-9);
  assert.ok(Math.abs(Math.atan2(s.b, s.a) - 0.05) < 1e-9);
});

test('a face that only moved rigidly gets its landmarks carried along and its expression kept', () => {
  const now = moved(baseMesh, 1.01, 0.02, 2, 1);
  const [r] = seeded(baseMesh).reusable([{ box, mesh: now }], 0.1);
  assert.equal(r.expression?.value, 'happy');
  const [want] = moved([[150, 100, 0]], 1.01, 0.02, 2, 1);
  const got = r.landmarks?.points[0];
  assert.ok(got && Math.abs(got.x - want[0]) < 1e-6 && Math.abs(got.y - want[1]) < 1e-6);
});

test('a raised brow, an old result, a new face or a large scale change need both nets again', () => {
  const browUp = withMoved([70, 63, 105, 66, 107, 46, 53, 52, 65, 55], -30);
  const none = [{}];
  assert.deepEqual(seeded(baseMesh).reusable([{ box, mesh: browUp }], 0.1), none);
  assert.deepEqual(seeded(baseMesh).reusable([{ box, mesh: baseMesh }], MAX_AGE_S), none);
  assert.deepEqual(seeded(baseMesh).reusable([{ box: [400, 50, 200, 200], mesh: baseMesh }], 0.1), none);
  assert.deepEqual(seeded(baseMesh).reusable([{ box, mesh: moved(baseMesh, 1.1, 0, 0, 0) }], 0.1), none);
});

test('a mouth that opened needs the expression net only', () => {
  const [r] = seeded(baseMesh).reusable([{ box, mesh: withMoved([13, 14, 17, 152], 40) }], 0.1);
  assert.ok(r.landmarks);
  assert.equal(r.expression, undefined);
});

test('a carried result stays tied to the frame face-api ran on', () => {
  const r = seeded(baseMesh);
  const [first] = r.reusable([{ box, mesh: baseMesh }], 0.1);
  assert.ok(first.landmarks && first.expression);
  const memory = { landmarks: first.landmarks.source, expression: first.expression };
  r.remember([{ box, memory, ran: { landmarks: false, expression: false } }]);
  assert.equal(memory.landmarks.timeS, 0);
  assert.deepEqual(r.reusable([{ box, mesh: baseMesh }], MAX_AGE_S + 0.01), [{}]);
  assert.equal(r.landmarkRuns, 1);
  assert.equal(r.faces, 2);
});
