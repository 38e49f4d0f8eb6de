// The detector schedule of face-tracking.ts against a fake human that records how it was configured.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as tfjs from '@tensorflow/tfjs-core';
import { detectOnce, FaceTracking, REDETECT_S } from './face-tracking.js';
import type { FaceModels, HumanConfigLike, HumanFace } from './models.js';

const face = (faceScore = 1): HumanFace => ({
  box: [0, 0, 10, 10],
  boxRaw: [0, 0, 0.1, 0.1],
  score: faceScore,
  boxScore: 0.9,
  faceScore,
  mesh: [],
});

const initial = (): HumanConfigLike => ({
  cacheSensitivity: 0,
  face: { enabled: true, detector: { skipFrames: 0, skipTime: 0 } },
});

/**
 * A human that returns the queued face lists and logs, per call with faces on, whether its box cache was
 * allowed, and counts the calls with faces off (priming its input-change check). Like human, it replaces
 * its config object with a copy on every call.
 */
function fakeModels(replies: HumanFace[][], cuts: number[] = []) {
  const follows: boolean[] = [];
  let calls = 0;
  let primes = 0;
  const human = {
    config: initial(),
    load: async () => {},
    detect: async (x: tfjs.Tensor) => {
      const config = human.config;
      human.config = structuredClone(config);
      if (!config.face.enabled) {
        assert.equal(x, input, 'priming gets the frame as it is');
        primes++;
        return { face: [] };
      }
      const follow = config.face.detector.skipFrames > 0 && config.cacheSensitivity > 0;
      assert.equal(x, follow ? input : square, 'the detector gets the letterboxed frame');
      follows.push(follow);
      human.config.skipAllowed = follow && !cuts.includes(calls++); // calls counts followed calls
      return { face: replies.shift() ?? [face()] };
    },
  };
  return { models: { human } as unknown as FaceModels, follows, primes: () => primes, human };
}

const input = {} as tfjs.Tensor;
const square = {} as tfjs.Tensor;

test('detects on the first frame, follows until REDETECT_S has passed, and restores human config', async () => {
  const { models, follows, primes, human } = fakeModels([]);
  const t = new FaceTracking();
  const fps = 15;
  for (let i = 0; i < 10; i++) await t.detect(models, input, () => square, i / fps);
  const period = Math.ceil(REDETECT_S * fps - 1e-9);
  assert.deepEqual(
    follows,
    Array.from({ length: 10 }, (_, i) => i % period !== 0),
  );
  assert.equal(t.detections, Math.ceil(10 / period));
  const { skipAllowed: _, ...after } = human.config;
  assert.deepEqual(after, initial());
  assert.equal(primes(), 1, 'primed once, on the first frame');
});

test('a face lost while following sends the same frame to the detector', async () => {
  const { models, follows } = fakeModels([[face(), face()], [face()], [face(), face()]]);
  const t = new FaceTracking();
  await t.detect(models, input, () => square, 0);
  const r = await t.detect(models, input, () => square, 0.05);
  assert.deepEqual(follows, [false, true, false]);
  assert.equal(r.face.length, 2);
});

test('a weak mesh, or another user of human in between, means detecting on the next frame', async () => {
  const { models, follows } = fakeModels([[face(0.6)], [face()], [face()], [face()]]);
  const t = new FaceTracking();
  await t.detect(models, input, () => square, 0);
  await t.detect(models, input, () => square, 0.05); // weak before: detects
  await detectOnce(models, square);
  await t.detect(models, input, () => square, 0.1); // another user since: detects
  assert.deepEqual(follows, [false, false, false, false]);
});

test('a frame human will not follow (a cut) is detected again on the letterboxed frame', async () => {
  const { models, follows } = fakeModels([], [0]);
  const t = new FaceTracking();
  await t.detect(models, input, () => square, 0);
  const r = await t.detect(models, input, () => square, 0.05);
  await t.detect(models, input, () => square, 0.1);
  assert.deepEqual(follows, [false, true, false, true]);
  assert.equal(r.padded, true);
});
