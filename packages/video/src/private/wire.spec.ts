import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeImage, encodeFrameJpeg, packFaceGeometry, unpackFaceGeometry } from './wire.js';

test('face geometry packs into one float list and back', () => {
  const landmarks = Array.from({ length: 68 }, (_, i) => ({ x: i, y: 100 + i }));
  const mesh = Array.from({ length: 478 }, (_, i) => [1000 + i, 2000 + i, 7]);
  const flat = packFaceGeometry({ landmarks, mesh });
  assert.equal(flat.length, 2 * 546);
  assert.deepEqual(flat.slice(0, 4), [0, 100, 1, 101]);
  const back = unpackFaceGeometry(flat);
  assert.deepEqual(back.landmarks, landmarks);
  assert.deepEqual(back.mesh[477], [1477, 2477, 0]);
  assert.throws(() => unpackFaceGeometry(flat.slice(0, 136)), /expected 1092 floats/);
});

test('a frame survives JPEG encoding (size, and colour within JPEG error)', async () => {
  const width = 64;
  const height = 32;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set([200, 40, 90], i * 3);
  const jpeg = await encodeFrameJpeg({ index: 0, timeS: 0, width, height, rgb });
  assert.equal(jpeg[0], 0xff);
  assert.equal(jpeg[1], 0xd8);
  const back = await decodeImage(jpeg, 3, 1.5);
  assert.equal(back.width, width);
  assert.equal(back.height, height);
  assert.equal(back.index, 3);
  assert.ok(
    Math.abs(back.rgb[0] - 200) < 8 && Math.abs(back.rgb[1] - 40) < 8 && Math.abs(back.rgb[2] - 90) < 8,
  );
});
