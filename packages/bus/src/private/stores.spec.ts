// Job state in KV, blobs in the object store and broadcast subscriptions, against a real nats-server.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { JobStatus, type ModelPublished, type TrainingProgress } from '@emoverse/proto';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import { type Bus, blobBuckets, connectBus, events } from '../index.js';
import { eventually } from './test-support.js';

let server: NatsServer;
let bus: Bus;
let dir: string;

before(async () => {
  server = await startNatsServer();
  bus = await connectBus({ ...server.client(), name: 'stores-spec' });
  dir = mkdtempSync(join(tmpdir(), 'bus-blobs-'));
});
after(async () => {
  await bus.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('job state lives in KV and concurrent updates do not lose writes', async () => {
  const jobs = await bus.jobs();
  assert.equal(await jobs.get('job-1'), undefined);
  await jobs.put({ jobId: 'job-1', kind: 'video', status: JobStatus.PENDING });
  assert.equal((await jobs.get('job-1'))?.status, JobStatus.PENDING);
  // Ten writers each add one output; optimistic concurrency keeps all ten.
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      jobs.update('job-1', (cur) => ({
        ...cur,
        status: JobStatus.RUNNING,
        outputs: [...(cur?.outputs ?? []), { bucket: 'b', name: `o${i}` }],
      })),
    ),
  );
  const state = await jobs.get('job-1');
  assert.equal(state?.outputs.length, 10);
  // Each write was also announced on emoverse.job.state.job-1: 1 put + 10 updates.
  const announced = await bus.jsm.streams.info(events.jobState.stream);
  assert.equal(announced.state.messages, 11);
  assert.ok(state?.updatedAt && state.updatedAt.seconds > 0n);
  await assert.rejects(jobs.put({ jobId: 'bad id!' }), /invalid job id "bad id!"/);
});

test('patch changes the given fields, keeps the others, and clears a field given as undefined', async () => {
  const jobs = await bus.jobs();
  await jobs.put({
    jobId: 'job-p',
    kind: 'training',
    status: JobStatus.RUNNING,
    stage: 'stage1',
    progress: 0.5,
    attributes: { recipe: 'r' },
    outputs: [{ bucket: 'b', name: 'o' }],
    error: { code: 'X', message: 'old' },
  });
  const next = await jobs.patch('job-p', (cur) => ({
    status: JobStatus.FAILED,
    progress: (cur?.progress ?? 0) + 0.25,
    attributes: { ...cur?.attributes, executor: 'local' },
  }));
  assert.equal(next.kind, 'training');
  assert.equal(next.stage, 'stage1');
  assert.equal(next.status, JobStatus.FAILED);
  assert.equal(next.progress, 0.75);
  assert.deepEqual(next.attributes, { recipe: 'r', executor: 'local' });
  assert.deepEqual(
    next.outputs.map((o) => o.name),
    ['o'],
  );
  assert.equal(next.error?.message, 'old');
  const cleared = await jobs.patch('job-p', { error: undefined });
  assert.equal(cleared.error, undefined);
  assert.deepEqual(await jobs.get('job-p'), cleared);
});

test('blobs round-trip through the object store, from bytes and from files', async () => {
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
  const ref = await bus.blobs.put(blobBuckets.frames, 'job-1/frame-000001.jpg', bytes, 'image/jpeg');
  assert.equal(ref.bucket, blobBuckets.frames);
  assert.equal(ref.size, 300_000n);
  assert.match(ref.digest, /^SHA-256=/);
  assert.deepEqual(await bus.blobs.get(ref), bytes);

  const src = join(dir, 'video.bin');
  writeFileSync(src, bytes.subarray(0, 123_457));
  const fileRef = await bus.blobs.putFile(blobBuckets.videos, 'job-1/video.bin', src, 'video/mp4');
  const dst = join(dir, 'back.bin');
  await bus.blobs.getToFile(fileRef, dst);
  assert.deepEqual(new Uint8Array(readFileSync(dst)), bytes.subarray(0, 123_457));
  assert.equal((await bus.blobs.info(fileRef))?.contentType, 'video/mp4');

  await bus.blobs.delete(ref);
  await assert.rejects(bus.blobs.get(ref), /blob emoverse-frames\/job-1\/frame-000001.jpg not found/);
});

test('every subscriber of a broadcast event sees it, filtered by token', async () => {
  const a: ModelPublished[] = [];
  const b: ModelPublished[] = [];
  const progress: TrainingProgress[] = [];
  const sa = await bus.subscribe(events.modelPublished, (m) => void a.push(m));
  const sb = await bus.subscribe(events.modelPublished, (m) => void b.push(m));
  const sp = await bus.subscribe(events.trainingProgress, (p) => void progress.push(p), { token: 'run-7' });
  await bus.publish(events.modelPublished, { modelId: 'emoverse-nano', version: '3' });
  await bus.publish(events.trainingProgress, { runId: 'run-7', step: 1 }, { token: 'run-7' });
  await bus.publish(events.trainingProgress, { runId: 'run-8', step: 1 }, { token: 'run-8' });
  await eventually(
    () => (a.length === 1 && b.length === 1 && progress.length === 1) || undefined,
    'broadcasts',
  );
  assert.equal(a[0].version, '3');
  assert.equal(b[0].modelId, 'emoverse-nano');
  assert.equal(progress[0].runId, 'run-7');
  await assert.rejects(bus.publish(events.trainingProgress, { runId: 'x' }), /needs a token/);
  // A late subscriber can replay what the stream holds.
  const replay: TrainingProgress[] = [];
  const sr = await bus.subscribe(events.trainingProgress, (p) => void replay.push(p), { from: 'all' });
  await eventually(() => replay.length === 2 || undefined, 'replay');
  await Promise.all([sa.stop(), sb.stop(), sp.stop(), sr.stop()]);
});
