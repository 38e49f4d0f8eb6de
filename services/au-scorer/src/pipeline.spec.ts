// Done-when test of issue 5: real nats-server, both services as processes, real videos.
// video.submitted → frame-extractor → frames.extracted → au-scorer → au.scored, plus both gRPC APIs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Bus, connectBus, events, videoJobAttributes, type WorkConsumer } from '@emoverse/bus';
import { CLAIMED_AUS } from '@emoverse/facs';
import {
  AU_NAMES,
  type AuScored,
  AuScorerService,
  FrameExtractorService,
  type JobState,
  JobStatus,
} from '@emoverse/proto';
import { createClient, status } from '@emoverse/service-kit';
import {
  checkHealth,
  type NatsServer,
  type ServiceProcess,
  sharedDir,
  startNatsServer,
  startService,
} from '@emoverse/testing';

const media = (p: string) => join(sharedDir(), 'data', p);
let nats: NatsServer;
let bus: Bus;
let fe: ServiceProcess;
let au: ServiceProcess;
let dir: string;
let consumer: WorkConsumer;
const scored = new Map<string, AuScored[]>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emoverse-au-pipeline-'));
  nats = await startNatsServer();
  bus = await connectBus({ ...nats.client(), name: 'au-pipeline-test' });
  const env = {
    EMOVERSE_GRPC_HOST: '127.0.0.1',
    FRAME_EXTRACTOR_FPS: '5',
    // Small batches: a span arrives in several FrameBatch messages, which au-scorer must gather.
    FRAME_EXTRACTOR_MAX_BATCH_BYTES: '60000',
  };
  [fe, au] = await Promise.all([
    startService('frame-extractor', { nats, env }),
    startService('au-scorer', { nats, env }),
  ]);
  consumer = await bus.consume(
    events.auScored,
    (e) => {
      scored.set(e.jobId, [...(scored.get(e.jobId) ?? []), e]);
    },
    { durable: 'au-pipeline-test' },
  );
});

after(async () => {
  await Promise.all([fe?.stop(), au?.stop()]);
  await consumer?.stop();
  await bus?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Waits (bounded) until `count` AuScored events of the job arrived; returns them by span. */
async function results(jobId: string, count: number): Promise<AuScored[]> {
  for (let i = 0; i < 1200; i++) {
    const got = scored.get(jobId) ?? [];
    if (got.length >= count) return [...got].sort((a, b) => a.spanIndex - b.spanIndex);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no AuScored for ${jobId}\n${fe.output().slice(-2000)}\n${au.output().slice(-2000)}`);
}

/** The job's state in KV once it is no longer running. */
async function finalState(jobId: string): Promise<JobState> {
  const jobs = await bus.jobs();
  for (let i = 0; i < 600; i++) {
    const state = await jobs.get(jobId);
    if (state && state.status !== JobStatus.RUNNING) return state;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${jobId} never finished\n${fe.output().slice(-2000)}\n${au.output().slice(-2000)}`);
}

/** The job states announced on emoverse.job.state.<jobId>, as "STATUS stage", repeats in a row merged. */
async function announcedSteps(jobId: string, last: JobState): Promise<string[]> {
  const seen: JobState[] = [];
  const sub = await bus.subscribe(events.jobState, (s) => void seen.push(s), { token: jobId, from: 'all' });
  const isLast = (s?: JobState) =>
    s?.updatedAt?.seconds === last.updatedAt?.seconds && s?.updatedAt?.nanos === last.updatedAt?.nanos;
  for (let i = 0; i < 100 && !isLast(seen.at(-1)); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await sub.stop();
  const steps = seen.map((s) => `${JobStatus[s.status]} ${s.stage}`);
  return steps.filter((step, i) => step !== steps[i - 1]);
}

const submit = (jobId: string, init: object) =>
  bus.publish(events.videoSubmitted, { jobId, ...init }, { msgId: `video:${jobId}` });

describe('frame-extractor → au-scorer over NATS', () => {
  test('default.wmv: one person, the peak within 0.5 s of OpenFace (frame 257, 17.067 s)', async () => {
    await submit('default', { source: { case: 'path', value: media('openface/samples/default.wmv') } });
    const [r] = await results('default', 1);
    assert.equal(r.error, undefined);
    assert.equal(r.hasFace, true);
    assert.equal(r.personPeaks.length, 1);
    assert.ok(Math.abs(r.peak!.timeS - 17.067) <= 0.5, `peak at ${r.peak!.timeS} s`);
    // Every sampled frame (5 fps over 19.2 s) has its 17 AUs; S_f sums the ones the event says are measured.
    assert.equal(r.measured.length, 17);
    assert.deepEqual(
      AU_NAMES.filter((_, i) => r.measured[i]),
      [...CLAIMED_AUS],
    );
    assert.ok(r.faces.length >= 90, `${r.faces.length} frames`);
    for (const f of r.faces) {
      assert.equal(f.aus!.intensity.length, 17);
      const measured = f.aus!.intensity.reduce((a, b, i) => a + (r.measured[i] ? b : 0), 0);
      assert.ok(Math.abs(f.sF - measured) < 1e-3);
    }
    // The peak frame's image is in the object store.
    const jpeg = await bus.blobs.get(r.peak!.frame!);
    assert.equal(jpeg[0], 0xff);
    assert.equal(r.baselines[0].intensity.length, 17);
  });

  test('single_face.mp4 in two utterance spans: one person id in both, a peak per span', async () => {
    await submit('single', {
      source: { case: 'path', value: media('faces/single_face.mp4') },
      fps: 10,
      spans: [
        { startS: 0, endS: 1.2, id: 'utt-1' },
        { startS: 1.2, endS: 2.4, id: 'utt-2' },
      ],
    });
    const rs = await results('single', 2);
    assert.deepEqual(
      rs.map((r) => [r.span?.id, r.spanCount, r.hasFace]),
      [
        ['utt-1', 2, true],
        ['utt-2', 2, true],
      ],
    );
    assert.deepEqual(new Set(rs.flatMap((r) => r.faces.map((f) => f.trackId))), new Set([0]));
    assert.ok(rs[0].peak!.timeS < 1.2 && rs[1].peak!.timeS >= 1.2);
  });

  test('bad input becomes an error event per span; no job is lost and the workers keep serving', async () => {
    const corrupt = join(dir, 'corrupt.mp4');
    writeFileSync(corrupt, Buffer.alloc(40_000, 7));
    const audio = join(dir, 'audio.m4a');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', audio]);
    const noFace = join(dir, 'noface.mp4');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=640x360:rate=5:duration=1',
      '-c:v',
      'mpeg4',
      noFace,
    ]);
    const truncated = join(dir, 'truncated.mp4');
    writeFileSync(truncated, readFileSync(media('faces/single_face.mp4')).subarray(0, 60_000));
    await submit('corrupt', { source: { case: 'path', value: corrupt } });
    await submit('audio', { source: { case: 'path', value: audio } });
    await submit('missing', { source: { case: 'path', value: join(dir, 'missing.mp4') } });
    await submit('truncated', { source: { case: 'path', value: truncated } });
    await submit('noface', { source: { case: 'path', value: noFace } });
    await submit('spans', {
      source: { case: 'path', value: media('faces/single_face.mp4') },
      spans: [
        { startS: 1, endS: 1, id: 'zero' },
        { startS: 0, endS: 0.6, id: 'ok' },
      ],
    });
    const code = async (job: string) => (await results(job, 1))[0].error?.code;
    assert.equal(await code('corrupt'), 'DECODE_FAILED');
    assert.equal(await code('audio'), 'NO_VIDEO_STREAM');
    assert.equal(await code('missing'), 'NOT_FOUND');
    assert.equal(await code('truncated'), 'DECODE_FAILED');
    assert.equal(await code('noface'), 'NO_FACE');
    const spans = await results('spans', 2);
    assert.equal(spans[0].error?.code, 'EMPTY_SPAN');
    assert.equal(spans[1].error, undefined);
    assert.equal(spans[1].hasFace, true);
    assert.equal(await checkHealth(fe.grpcAddress), 'SERVING');
    assert.equal(await checkHealth(au.grpcAddress), 'SERVING');
  });

  test('a video job’s state in KV goes running at stage frames, then au, then succeeded; an unreadable one fails at frames with the reason', async () => {
    await submit('state-ok', {
      source: { case: 'path', value: media('faces/single_face.mp4') },
      fps: 10,
      spans: [
        { startS: 0, endS: 1.2, id: 'utt-1' },
        { startS: 1.2, endS: 2.4, id: 'utt-2' },
      ],
    });
    await submit('state-missing', { source: { case: 'path', value: join(dir, 'gone.mp4') } });
    const ok = await finalState('state-ok');
    assert.equal(ok.kind, 'video');
    assert.equal(ok.status, JobStatus.SUCCEEDED);
    assert.equal(ok.stage, 'au');
    assert.equal(ok.progress, 1);
    assert.equal(ok.error, undefined);
    const A = videoJobAttributes;
    assert.deepEqual(
      [A.spans, A.extracted, A.scored, A.failed].map((k) => ok.attributes[k]),
      ['2', '0,1', '0,1', ''],
    );
    assert.deepEqual(await announcedSteps('state-ok', ok), ['RUNNING frames', 'RUNNING au', 'SUCCEEDED au']);
    assert.equal((await results('state-ok', 2)).length, 2);

    const missing = await finalState('state-missing');
    assert.equal(missing.status, JobStatus.FAILED);
    assert.equal(missing.stage, 'frames');
    assert.equal(missing.error?.code, 'NOT_FOUND');
    assert.equal(missing.error?.service, 'frame-extractor');
    assert.match(missing.error?.message ?? '', /gone\.mp4/);
    assert.deepEqual(await announcedSteps('state-missing', missing), ['RUNNING frames', 'FAILED frames']);
    // The error still reaches the end of the pipeline: the job is not lost.
    assert.equal((await results('state-missing', 1))[0].error?.code, 'NOT_FOUND');
  });

  test('gRPC: Extract then Score on its frames; Score on an image; bad media gets a status', async () => {
    const extractor = createClient(FrameExtractorService, fe.grpcAddress);
    const scorer = createClient(AuScorerService, au.grpcAddress);
    const ex = await extractor.extract({
      source: { case: 'path', value: media('faces/single_face.mp4') },
      options: { fps: 5, spans: [{ startS: 0, endS: 2 }] },
    });
    assert.equal(ex.video?.width, 640);
    const frames = ex.batches.flatMap((b) => b.frames);
    assert.equal(frames.length, 10);
    assert.ok(frames.every((f) => f.faces.length === 1 && f.faces[0].landmarks.length === 1092));
    const one = await scorer.score({
      input: { case: 'frames', value: { ...ex.batches[0], frames } },
      includeFrames: true,
    });
    assert.equal(one.results[0].hasFace, true);
    assert.equal(one.results[0].faces.length, 10);

    const jpg = readFileSync(media('faces/multi_face.jpg'));
    const image = await scorer.score({
      input: { case: 'media', value: { source: { case: 'image', value: jpg } } },
    });
    // A still: every person is their own track with a peak; eq. 2 keeps the highest.
    assert.equal(image.results[0].personPeaks.length, 5);
    assert.equal(image.results[0].peak!.sF, Math.max(...image.results[0].personPeaks.map((p) => p.sF)));
    const group = await scorer.score({
      input: { case: 'media', value: { source: { case: 'image', value: jpg } } },
      includeFrames: true,
    });
    assert.equal(new Set(group.results[0].faces.map((f) => f.trackId)).size, 5);

    await assert.rejects(
      scorer.score({
        input: { case: 'media', value: { source: { case: 'path', value: join(dir, 'audio.m4a') } } },
      }),
      (e: { code?: number }) => e.code === status.INVALID_ARGUMENT,
    );
    await assert.rejects(
      extractor.extract({ source: { case: 'path', value: join(dir, 'nothing-here.mp4') } }),
      (e: { code?: number }) => e.code === status.NOT_FOUND,
    );
    await assert.rejects(
      extractor.extract({
        source: { case: 'path', value: media('faces/single_face.mp4') },
        options: { spans: [{ startS: 1, endS: 1 }] },
      }),
      (e: { code?: number }) => e.code === status.INVALID_ARGUMENT,
    );
  });
});
