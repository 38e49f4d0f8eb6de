// A video job's state as frame-extractor and au-scorer move it, against a real nats-server: the states announced, the end state in KV.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AuScoredSchema, ErrorInfoSchema, FrameBatchSchema, type JobState, JobStatus } from '@emoverse/proto';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import {
  videoJobAttributes as A,
  type Bus,
  connectBus,
  events,
  PermanentError,
  type Subscription,
  VIDEO_JOB_KIND,
  VideoJobs,
} from '../index.js';
import type { BusLogger } from './options.js';
import { eventually } from './test-support.js';

let server: NatsServer;
let bus: Bus;
const watches: Subscription[] = [];

before(async () => {
  server = await startNatsServer();
  bus = await connectBus({ ...server.client(), name: 'video-jobs-spec' });
});
after(async () => {
  for (const w of watches) await w.stop();
  await bus.close();
  await server.stop();
});

/** Every state announced on emoverse.job.state.<jobId> from now on. */
async function watch(jobId: string): Promise<JobState[]> {
  const seen: JobState[] = [];
  watches.push(await bus.subscribe(events.jobState, (s) => void seen.push(s), { token: jobId, from: 'all' }));
  return seen;
}

const statusAndStage = (states: JobState[]) => states.map((s) => `${JobStatus[s.status]} ${s.stage}`);
const batch = (jobId: string, spanIndex: number, batchIndex: number, batchCount: number) =>
  create(FrameBatchSchema, { jobId, spanIndex, batchIndex, batchCount, spanCount: 2 });
const scored = (jobId: string, spanIndex: number, error?: { code: string; message: string }) =>
  create(AuScoredSchema, { jobId, spanIndex, spanCount: 2, hasFace: !error, error });

async function finished(jobId: string): Promise<JobState> {
  return eventually(async () => {
    const s = await (await bus.jobs()).get(jobId);
    return s && s.status !== JobStatus.RUNNING ? s : undefined;
  }, `job ${jobId} finishes`);
}

test('a video job runs at stage frames, then au, and succeeds once every span is scored', async () => {
  const jobs = bus.videoJobs();
  const seen = await watch('vj-ok');
  await jobs.extracting('vj-ok', 2);
  await jobs.framesPublished(batch('vj-ok', 0, 0, 2));
  await jobs.framesPublished(batch('vj-ok', 0, 1, 2));
  await jobs.scoring('vj-ok', 2);
  await jobs.scored(scored('vj-ok', 0));
  // frame-extractor still publishes span 1 while au-scorer scored span 0: the stage does not go back.
  await jobs.framesPublished(batch('vj-ok', 1, 0, 1));
  await jobs.scoring('vj-ok', 2);
  await jobs.scored(scored('vj-ok', 1));
  const end = await finished('vj-ok');
  assert.equal(end.kind, VIDEO_JOB_KIND);
  assert.equal(end.status, JobStatus.SUCCEEDED);
  assert.equal(end.progress, 1);
  assert.equal(end.error, undefined);
  assert.deepEqual(end.attributes, {
    [A.spans]: '2',
    [A.extracted]: '0,1',
    [A.scored]: '0,1',
    [A.failed]: '',
  });
  await eventually(() => seen.length === 7 || undefined, 'seven announced states');
  assert.deepEqual(statusAndStage(seen), [
    'RUNNING frames',
    'RUNNING frames',
    'RUNNING frames',
    'RUNNING au',
    'RUNNING au',
    'RUNNING au',
    'SUCCEEDED au',
  ]);
  const progress = seen.map((s) => s.progress);
  assert.deepEqual(
    progress,
    [...progress].sort((a, b) => a - b),
    'progress never goes back',
  );
  assert.ok(progress[2] > progress[1] && progress[1] > 0, `${progress}`);
});

test('a span scored before frame-extractor records its last batch counts as extracted, and the late write changes nothing', async () => {
  const jobs = bus.videoJobs();
  const seen = await watch('vj-race');
  await jobs.extracting('vj-race', 1);
  await jobs.scored(create(AuScoredSchema, { jobId: 'vj-race', spanCount: 1, hasFace: true }));
  await jobs.framesPublished(create(FrameBatchSchema, { jobId: 'vj-race', batchCount: 1, spanCount: 1 }));
  const end = await finished('vj-race');
  assert.equal(end.status, JobStatus.SUCCEEDED);
  assert.equal(end.attributes[A.extracted], '0');
  await eventually(() => seen.length === 2 || undefined, 'two announced states');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(statusAndStage(seen), ['RUNNING frames', 'SUCCEEDED au']);
});

test('a job of which no span gives scores ends FAILED with the error; one failed span of two still succeeds', async () => {
  const jobs = bus.videoJobs();
  await jobs.extracting('vj-noface', 2);
  await jobs.scored(scored('vj-noface', 0, { code: 'NO_FACE', message: 'no face found in 5 frames' }));
  await jobs.scored(scored('vj-noface', 1, { code: 'NO_FACE', message: 'no face found in 6 frames' }));
  const failed = await finished('vj-noface');
  assert.equal(failed.status, JobStatus.FAILED);
  assert.equal(failed.stage, 'au');
  assert.equal(failed.error?.code, 'NO_FACE');
  assert.equal(failed.attributes[A.failed], '0,1');

  await jobs.extracting('vj-half', 2);
  await jobs.scored(scored('vj-half', 0, { code: 'EMPTY_SPAN', message: 'zero-length span' }));
  await jobs.scored(scored('vj-half', 1));
  const half = await finished('vj-half');
  assert.equal(half.status, JobStatus.SUCCEEDED);
  assert.equal(half.attributes[A.failed], '0');
});

test('a rejected video ends FAILED at stage frames with the reason, and later writes leave it so', async () => {
  const jobs = bus.videoJobs();
  const seen = await watch('vj-bad');
  await jobs.extracting('vj-bad', 1);
  const error = create(ErrorInfoSchema, { code: 'DECODE_FAILED', message: 'moov atom not found' });
  await jobs.failed('vj-bad', 'frames', error);
  // au-scorer passes the error batch on; the job is already finished.
  await jobs.scored(create(AuScoredSchema, { jobId: 'vj-bad', spanCount: 1, error }));
  await jobs.failed('vj-bad', 'au', create(ErrorInfoSchema, { code: 'OTHER', message: 'later' }));
  const end = await finished('vj-bad');
  assert.equal(end.status, JobStatus.FAILED);
  assert.equal(end.stage, 'frames');
  assert.equal(end.error?.code, 'DECODE_FAILED');
  assert.equal(end.error?.message, 'moov atom not found');
  await eventually(() => seen.length === 2 || undefined, 'two announced states');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(statusAndStage(seen), ['RUNNING frames', 'FAILED frames'], 'nothing written after');
});

test('a redelivered video keeps a finished job finished; a new submission of the job id starts it again', async () => {
  const jobs = bus.videoJobs();
  await jobs.extracting('vj-again', 1);
  await jobs.scored(create(AuScoredSchema, { jobId: 'vj-again', spanCount: 1, hasFace: true }));
  assert.equal((await finished('vj-again')).status, JobStatus.SUCCEEDED);
  await jobs.extracting('vj-again', 1, true);
  assert.equal((await (await bus.jobs()).get('vj-again'))?.status, JobStatus.SUCCEEDED);
  await jobs.extracting('vj-again', 3, false);
  const restarted = await (await bus.jobs()).get('vj-again');
  assert.equal(restarted?.status, JobStatus.RUNNING);
  assert.equal(restarted?.progress, 0);
  assert.deepEqual(restarted?.attributes, { [A.spans]: '3' });
});

test('a job whose message is dead-lettered ends FAILED with the dead letter as its reason', async () => {
  const jobs = bus.videoJobs();
  await jobs.extracting('vj-dl', 1);
  const c = await bus.consume(
    events.framesExtracted,
    () => {
      throw new PermanentError('frame batch without frames');
    },
    { durable: 'video-jobs-spec', onDeadLetter: jobs.onDeadLetter('au') },
  );
  await bus.publish(events.framesExtracted, { jobId: 'vj-dl', spanCount: 1 }, { msgId: 'vj-dl' });
  const end = await finished('vj-dl');
  await c.stop();
  assert.equal(end.status, JobStatus.FAILED);
  assert.equal(end.stage, 'au');
  assert.equal(end.error?.code, 'DEAD_LETTER');
  assert.equal(end.error?.message, 'rejected: frame batch without frames');
  assert.equal(end.error?.service, 'video-jobs-spec');
});

test('a job state write that fails or hangs is logged and the job goes on', async () => {
  const warned: string[] = [];
  const logger: BusLogger = {
    debug() {},
    info() {},
    error() {},
    warn: (o) => void warned.push((o as { err: string }).err),
  };
  const failing = new VideoJobs(() => Promise.reject(new Error('KV unavailable')), logger, 'spec', 200);
  await failing.extracting('vj-lost', 1);
  const hanging = new VideoJobs(() => new Promise(() => {}), logger, 'spec', 200);
  const started = Date.now();
  await hanging.scored(create(AuScoredSchema, { jobId: 'vj-lost', spanCount: 1 }));
  assert.ok(Date.now() - started < 2_000, 'bounded by the timeout');
  await bus.videoJobs().extracting('bad id!', 1);
  assert.deepEqual(warned, ['KV unavailable', 'no answer in 200 ms']);
});
