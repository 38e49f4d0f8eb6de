import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headPose } from './pose.js';
import type { Point } from './types.js';

// A generic face (y up, z toward the camera) for the six points the pose fit uses.
const FACE: Record<number, [number, number, number]> = {
  30: [0, 0, 0],
  8: [0, -330, -65],
  36: [-225, 170, -135],
  45: [225, 170, -135],
  48: [-150, -150, -125],
  54: [150, -150, -125],
};

/** Projects the face rotated by yaw (about y) then pitch (about x) into image coordinates (y down). */
function project(yawDeg: number, pitchDeg: number): Point[] {
  const y = (yawDeg * Math.PI) / 180;
  const p = (pitchDeg * Math.PI) / 180;
  const pts: Point[] = Array.from({ length: 68 }, () => ({ x: 0, y: 0 }));
  for (const [i, [x0, y0, z0]] of Object.entries(FACE)) {
    const x1 = x0 * Math.cos(y) + z0 * Math.sin(y);
    const z1 = -x0 * Math.sin(y) + z0 * Math.cos(y);
    const y2 = y0 * Math.cos(p) - z1 * Math.sin(p);
    pts[Number(i)] = { x: 320 + 0.3 * x1, y: 240 - 0.3 * y2 };
  }
  return pts;
}

test('a frontal face has zero pose', () => {
  const pose = headPose(project(0, 0));
  for (const v of Object.values(pose)) assert.ok(Math.abs(v) < 1e-6, `${v}`);
});

test('yaw and pitch are recovered in size, and turning left vs right flips the sign of yaw', () => {
  const deg = 180 / Math.PI;
  const left = headPose(project(30, 0));
  const right = headPose(project(-30, 0));
  assert.ok(Math.abs(Math.abs(left.yaw * deg) - 30) < 1, `${left.yaw * deg}`);
  assert.ok(Math.sign(left.yaw) === -Math.sign(right.yaw));
  const nod = headPose(project(0, 20));
  assert.ok(Math.abs(Math.abs(nod.pitch * deg) - 20) < 1, `${nod.pitch * deg}`);
  assert.ok(Math.abs(nod.yaw * deg) < 1);
});
