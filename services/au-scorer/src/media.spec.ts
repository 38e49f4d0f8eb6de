// au-scorer's Score on media, in process (real ffmpeg, real face models, no NATS): asked for the face
// features, every face row carries its 7 expression probabilities and 128-d descriptor; not asked, the
// answer is as before. A still image (JPEG or PNG) is its own peak frame: one face, three faces, no
// face, a tiny face and an EXIF-rotated photo, and bad images get INVALID_ARGUMENT or NO_FACE with a reason.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import type { BlobStore } from '@emoverse/bus';
import { type AuScored, MediaSchema } from '@emoverse/proto';
import { GrpcError, status } from '@emoverse/service-kit';
import { sharedDir } from '@emoverse/testing';
import { MAX_IMAGE_PIXELS } from '@emoverse/video';
import sharp from 'sharp';
import { scoreMedia } from './media.js';

const media = create(MediaSchema, {
  source: { case: 'path', value: join(sharedDir(), 'data/faces/single_face.mp4') },
});
const noBlobs = {} as BlobStore;

describe('scoreMedia', () => {
  it('reports expressions and descriptors per face when asked, and nothing else changes', async () => {
    const [plain] = await scoreMedia(
      'plain',
      media,
      undefined,
      5,
      { frames: true, features: false },
      noBlobs,
    );
    const [full] = await scoreMedia('full', media, undefined, 5, { frames: true, features: true }, noBlobs);
    assert.equal(full.faces.length, 12);
    for (const f of full.faces) {
      assert.equal(f.expressions.length, 7);
      assert.ok(Math.abs(f.expressions.reduce((a, b) => a + b, 0) - 1) < 1e-3);
      assert.equal(f.descriptor.length, 128);
      assert.ok(f.descriptor.some((v) => v !== 0));
    }
    assert.ok(plain.faces.every((f) => f.expressions.length === 0 && f.descriptor.length === 0));
    const strip = (r: typeof full) => ({
      ...r,
      jobId: '',
      faces: r.faces.map((f) => ({ ...f, expressions: [], descriptor: [] })),
    });
    assert.deepEqual(strip(full), strip(plain));
    // Features imply the per-frame rows.
    const [only] = await scoreMedia('only', media, undefined, 5, { frames: false, features: true }, noBlobs);
    assert.equal(only.faces.length, 12);
  });
});

const faceFile = (name: string) => readFileSync(join(sharedDir(), 'data/faces', name));
const singleFace = faceFile('single_face.jpg');

/** One still image through Score's media path, with every face row. */
async function scoreImage(bytes: Uint8Array): Promise<AuScored> {
  const image = create(MediaSchema, { source: { case: 'image', value: bytes } });
  const [r] = await scoreMedia('still', image, undefined, 5, { frames: true, features: false }, noBlobs);
  return r;
}

/** A grey canvas with images pasted at their positions, as JPEG. */
function canvas(width: number, height: number, parts: { input: Buffer; left: number; top: number }[]) {
  return sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .composite(parts)
    .jpeg()
    .toBuffer();
}

/** A still with a face: the peak is the image itself (frame 0 at 0 s) with its 17 AUs, some active. */
function assertPeakIsTheImage(r: AuScored): void {
  assert.equal(r.hasFace, true, r.error?.message);
  assert.equal(r.error, undefined);
  assert.ok(r.peak?.aus, 'a peak with AUs');
  assert.equal(r.peak.frameIndex, 0);
  assert.equal(r.peak.timeS, 0);
  assert.equal(r.peak.aus.intensity.length, 17);
  assert.ok(
    r.peak.aus.intensity.some((v) => v >= 1),
    `active AUs: ${r.peak.aus.intensity}`,
  );
  assert.ok(r.peak.sF > 0);
  assert.ok(r.faces.length > 0 && r.faces.every((f) => f.frameIndex === 0 && f.timeS === 0));
}

/** NO_FACE for a still, with its reason. */
function assertNoFace(r: AuScored, reason: string): void {
  assert.equal(r.hasFace, false);
  assert.equal(r.peak, undefined);
  assert.equal(r.personPeaks.length, 0);
  assert.equal(r.error?.code, 'NO_FACE');
  assert.equal(r.error.details.reason, reason, r.error.message);
}

const invalidArgument = (message: RegExp) => (e: unknown) =>
  e instanceof GrpcError && e.code === status.INVALID_ARGUMENT && message.test(e.message);

describe('scoreMedia on a still image', () => {
  it('one face: the image is the peak, with its AUs', async () => {
    const r = await scoreImage(singleFace);
    assertPeakIsTheImage(r);
    assert.equal(r.personPeaks.length, 1);
    assert.equal(r.faces.length, 1);
    assert.equal(r.faces[0].usable, true);
    assert.equal(r.peak?.trackId, r.faces[0].trackId);
  });

  it('an image file by path goes the same road as its bytes, with the same answer', async () => {
    const byPath = create(MediaSchema, {
      source: { case: 'path', value: join(sharedDir(), 'data/faces/single_face.jpg') },
    });
    const [r] = await scoreMedia('still', byPath, undefined, 5, { frames: true, features: false }, noBlobs);
    assert.deepEqual(r, await scoreImage(singleFace));
  });

  it('three faces: each person has a peak in the image, and eq. 2 keeps the highest', async () => {
    const posed = ['0-f1-su-ph.jpg', '0-f15-hao-ph.jpg', '15-f13-anc-ph.jpg'].map(faceFile);
    const group = await canvas(
      1536,
      512,
      posed.map((input, i) => ({ input, left: 512 * i, top: 0 })),
    );
    const r = await scoreImage(group);
    assertPeakIsTheImage(r);
    assert.equal(r.personPeaks.length, 3);
    assert.equal(new Set(r.faces.map((f) => f.trackId)).size, 3);
    assert.ok(r.personPeaks.every((p) => p.frameIndex === 0 && p.aus?.intensity.length === 17));
    const best = r.personPeaks.reduce((a, b) => (b.sF > a.sF ? b : a));
    assert.equal(r.peak?.trackId, best.trackId);
    assert.equal(r.peak?.sF, best.sF);
  });

  it('no face: an empty result with the reason no_face', async () => {
    const plain = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#a0c0e0' } })
      .png()
      .toBuffer();
    const r = await scoreImage(plain);
    assertNoFace(r, 'no_face');
    assert.equal(r.error?.message, 'no face found in the image');
  });

  it('a tiny face in a large canvas: found at 30 px with AUs, a clear no_face at 15 px', async () => {
    // single_face.jpg's face is about a quarter of its width: scaled to 128 px the face spans about 30 px
    // of a 1920×1080 canvas, scaled to 64 px about 15 px (the detector sees the canvas at 256×256).
    const at = async (width: number) =>
      scoreImage(
        await canvas(1920, 1080, [
          { input: await sharp(singleFace).resize(width).toBuffer(), left: 900, top: 500 },
        ]),
      );
    const small = await at(128);
    assertPeakIsTheImage(small);
    assert.equal(small.personPeaks.length, 1);
    assertNoFace(await at(64), 'no_face');
  });

  it('EXIF rotation: a photo stored sideways with its orientation tag reads as the upright one', async () => {
    // The same pixels turned a quarter either way, tagged so that a viewer turns them back (EXIF 8, 6).
    const upright = await scoreImage(await sharp(singleFace).jpeg().toBuffer());
    assertPeakIsTheImage(upright);
    for (const [angle, orientation] of [
      [90, 8],
      [270, 6],
    ]) {
      const turned = await sharp(singleFace).rotate(angle).withMetadata({ orientation }).jpeg().toBuffer();
      const r = await scoreImage(turned);
      assertPeakIsTheImage(r);
      assert.equal(r.faces.length, 1);
      assert.ok(Math.abs((r.faces[0].pose?.roll ?? 9) - (upright.faces[0].pose?.roll ?? 0)) < 0.1);
      const a = upright.peak?.aus?.intensity ?? [];
      const b = r.peak?.aus?.intensity ?? [];
      for (const [k, v] of a.entries()) assert.ok(Math.abs(v - b[k]) <= 0.75, `AU #${k}: ${v} vs ${b[k]}`);
      assert.ok(Math.abs((upright.peak?.sF ?? 0) - (r.peak?.sF ?? 0)) <= 1.5);
    }
    // Without the tag the face lies on its side, and no upright face is found.
    assertNoFace(await scoreImage(await sharp(singleFace).rotate(90).jpeg().toBuffer()), 'no_face');
  });
});

describe('scoreMedia on a bad image', () => {
  it('bytes that are no image: INVALID_ARGUMENT', async () => {
    await assert.rejects(
      scoreImage(new TextEncoder().encode('these bytes are text, not an image')),
      invalidArgument(/^media\.image is not an image of at most 50 megapixels: /),
    );
    await assert.rejects(scoreImage(new Uint8Array()), invalidArgument(/^media\.image is empty$/));
  });

  it('a 1×1 image: NO_FACE with the reason no_face', async () => {
    const dot = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000000' } })
      .png()
      .toBuffer();
    assertNoFace(await scoreImage(dot), 'no_face');
  });

  it('a 100-megapixel image: refused by the size limit with INVALID_ARGUMENT', async () => {
    // A JPEG whose frame header says 10000×10000: the limit refuses it from the header, before any
    // pixel is decoded (encoding a real one takes seconds and 300 MB; the header is all the limit reads).
    const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const sof = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xc0);
    jpeg.writeUInt16BE(10_000, sof + 5);
    jpeg.writeUInt16BE(10_000, sof + 7);
    assert.deepEqual(
      await sharp(jpeg)
        .metadata()
        .then((m) => [m.width, m.height]),
      [10_000, 10_000],
    );
    assert.ok(10_000 * 10_000 > MAX_IMAGE_PIXELS);
    await assert.rejects(
      scoreImage(jpeg),
      invalidArgument(/^media\.image is not an image of at most 50 megapixels: .*pixel limit/),
    );
  });
});
