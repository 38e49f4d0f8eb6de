import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Bus, connectBus } from '@emoverse/bus';
import type { FrameBatch } from '@emoverse/proto';
import { type NatsServer, sharedDir, startNatsServer } from '@emoverse/testing';
import { unpackFaceGeometry, VideoError } from '@emoverse/video';
import { runExtraction } from './extraction.js';

let nats: NatsServer;
let bus: Bus;
before(async () => {
  nats = await startNatsServer();
  bus = await connectBus({ ...nats.client(), name: 'frame-extractor-test' });
});
after(async () => {
  await bus?.close();
  await nats?.stop();
});

const SINGLE = join(sharedDir(), 'data/faces/single_face.mp4');
const defaults = { fps: 5, maxFrames: 300, maxBatchBytes: 20_000 };

test('a span becomes byte-bounded FrameBatches with JPEG frames in the object store and full face geometry', async () => {
  const batches: FrameBatch[] = [];
  const video = await runExtraction(
    'job-x',
    SINGLE,
    { fps: 10, maxFrames: 0, spans: [{ startS: 0.5, endS: 1.5, id: 'u1' }] },
    defaults,
    bus.blobs,
    async (b) => {
      batches.push(b);
    },
    { dialogue: 'd1' },
  );
  assert.equal(video.width, 640);
  assert.equal(video.height, 360);
  // 10 frames, ~4.7 kB each with one face, at most 20 kB per batch: several batches of one span.
  assert.ok(batches.length >= 3, `${batches.length} batches`);
  assert.ok(
    batches.every((b) => b.batchCount === batches.length && b.spanIndex === 0 && b.span?.id === 'u1'),
  );
  assert.deepEqual(
    batches.map((b) => b.batchIndex),
    batches.map((_, i) => i),
  );
  assert.equal(batches[0].attributes.dialogue, 'd1');
  const frames = batches.flatMap((b) => b.frames);
  assert.equal(frames.length, 10);
  assert.ok(Math.abs(frames[0].timeS - 0.5) < 1e-9);
  const face = frames[0].faces[0];
  assert.equal(face.trackId, 0);
  assert.ok(face.box!.width > 50 && face.confidence > 0.5);
  const { landmarks, mesh } = unpackFaceGeometry(face.landmarks);
  assert.equal(landmarks.length, 68);
  assert.equal(mesh.length, 478);
  const jpeg = await bus.blobs.get(frames[3].image!);
  assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
});

test('an unreadable video throws VideoError before emitting anything', async () => {
  const emitted: FrameBatch[] = [];
  await assert.rejects(
    runExtraction('job-y', '/no/such/video.mp4', undefined, defaults, bus.blobs, async (b) => {
      emitted.push(b);
    }),
    (e: unknown) => e instanceof VideoError && e.code === 'NOT_FOUND',
  );
  assert.equal(emitted.length, 0);
});
