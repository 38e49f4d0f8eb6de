// au-scorer's Score on media, in process (real ffmpeg, real face models, no NATS): asked for the face
// features, every face row carries its 7 expression probabilities and 128-d descriptor; not asked, the
// answer is as before. The AUs, S_f and peak are the same either way.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import type { BlobStore } from '@emoverse/bus';
import { MediaSchema } from '@emoverse/proto';
import { sharedDir } from '@emoverse/testing';
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
