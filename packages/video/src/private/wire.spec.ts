import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import {
  decodeImage,
  encodeFrameJpeg,
  isStillImage,
  MAX_IMAGE_PIXELS,
  packFaceGeometry,
  unpackFaceGeometry,
} from './wire.js';

const shared = process.env.EMOVERSE_SHARED ?? resolve(import.meta.dirname, '../../../../../shared');

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

test('an image is turned upright by its EXIF orientation', async () => {
  // 40×20 pixels stored, EXIF orientation 6 (rotate 90° clockwise to display): 20×40 upright.
  const stored = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#c02040' } })
    .withMetadata({ orientation: 6 })
    .jpeg()
    .toBuffer();
  const frame = await decodeImage(stored);
  assert.equal(frame.width, 20);
  assert.equal(frame.height, 40);
});

test('an image above MAX_IMAGE_PIXELS is refused before decoding; bytes that are no image fail', async () => {
  const side = Math.ceil(Math.sqrt(MAX_IMAGE_PIXELS)) + 1;
  const huge = await sharp({ create: { width: side, height: side, channels: 3, background: '#000' } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  await assert.rejects(decodeImage(huge), /pixel limit/i);
  await assert.rejects(decodeImage(new Uint8Array([1, 2, 3, 4])), /unsupported image format|Input buffer/i);
});

test('a JPEG or PNG file is a still image; a video, text or a missing file is not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wire-still-'));
  try {
    const png = join(dir, 'still.png');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).toFile(png);
    const text = join(dir, 'text.jpg');
    await writeFile(text, 'not an image');
    assert.equal(await isStillImage(png), true);
    assert.equal(await isStillImage(join(shared, 'data/faces/single_face.jpg')), true);
    assert.equal(await isStillImage(join(shared, 'data/faces/single_face.mp4')), false);
    assert.equal(await isStillImage(text), false);
    assert.equal(await isStillImage(join(dir, 'missing.png')), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
