// Head pose from 68 landmarks: a generic face seen at a known yaw and pitch gives them back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { genericFaceLandmarks } from '../testing.js';
import { headPose } from './pose.js';

test('a frontal face has zero pose', () => {
  const pose = headPose(genericFaceLandmarks(0, 0));
  for (const v of Object.values(pose)) assert.ok(Math.abs(v) < 1e-6, `${v}`);
});

test('yaw and pitch are recovered in size, and turning left vs right flips the sign of yaw', () => {
  const deg = 180 / Math.PI;
  const left = headPose(genericFaceLandmarks(30, 0));
  const right = headPose(genericFaceLandmarks(-30, 0));
  assert.ok(Math.abs(Math.abs(left.yaw * deg) - 30) < 1, `${left.yaw * deg}`);
  assert.ok(Math.sign(left.yaw) === -Math.sign(right.yaw));
  const nod = headPose(genericFaceLandmarks(0, 20));
  assert.ok(Math.abs(Math.abs(nod.pitch * deg) - 20) < 1, `${nod.pitch * deg}`);
  assert.ok(Math.abs(nod.yaw * deg) < 1);
});
