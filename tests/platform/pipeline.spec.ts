// An event from one service shell consumed by another exactly once, even when the consumer is killed
// before it acks; one trace from the publisher through both services; malformed events to dead letters.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fromBinary } from '@bufbuild/protobuf';
import { type Bus, connectBus, events } from '@emoverse/bus';
import { AuScoredSchema } from '@emoverse/proto';
import { initTelemetry, readSpanFile, type Telemetry, withSpan } from '@emoverse/telemetry';
import {
  checkHealth,
  type NatsServer,
  type ServiceProcess,
  startNatsServer,
  startService,
} from '@emoverse/testing';
import { deadLetters, eventually, makeTestVideo, storedMessages } from './support.js';

let nats: NatsServer;
let bus: Bus;
let telemetry: Telemetry;
let dir: string;
let spanFile: string;
let env: Record<string, string>;
const started: ServiceProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emoverse-pipeline-'));
  spanFile = join(dir, 'spans.jsonl');
  nats = await startNatsServer();
  env = {
    EMOVERSE_TRACE_EXPORTER: `file:${spanFile}`,
    // A killed worker's message comes back after 2 s instead of 30 s.
    EMOVERSE_BUS_ACK_WAIT_MS: '2000',
    EMOVERSE_GRPC_HOST: '127.0.0.1',
  };
  telemetry = initTelemetry({ serviceName: 'tests', exporter: `file:${spanFile}`, defaultMetrics: false });
  bus = await connectBus({ ...nats.client(), name: 'tests' });
});

after(async () => {
  await Promise.all(started.map((s) => s.stop('SIGTERM')));
  await bus?.close();
  await telemetry?.shutdown();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a video event goes frame-extractor -> au-scorer exactly once, through a crash before ack, in one trace', async () => {
  const fe = await startService('frame-extractor', { nats, env });
  started.push(fe);
  // This au-scorer dies (SIGKILL) after publishing its result and before acking the frame batch.
  const doomed = await startService('au-scorer', {
    nats,
    env,
    imports: [fileURLToPath(new URL('./kill-before-ack.fixture.ts', import.meta.url))],
  });

  const video = makeTestVideo(join(dir, 'pattern.mp4'));
  const submitted = await withSpan('submit video', () =>
    bus.publish(
      events.videoSubmitted,
      {
        jobId: 'job-1',
        source: { case: 'path', value: video },
        spans: [{ startS: 0, endS: 1, id: 'utt-1' }],
      },
      { msgId: 'video:job-1' },
    ),
  );
  // Submitting the same job again (a client retry) is de-duplicated by Nats-Msg-Id.
  const retry = await bus.publish(
    events.videoSubmitted,
    { jobId: 'job-1', source: { case: 'path', value: video } },
    { msgId: 'video:job-1' },
  );
  assert.equal(retry.duplicate, true);

  const death = await doomed.exited;
  assert.equal(death.signal, 'SIGKILL', `au-scorer should have been killed before ack:\n${doomed.output()}`);
  assert.match(doomed.output(), /fault injection: killing process before ack/);

  // A fresh replica gets the unacked batch again, handles it again, and its output is de-duplicated.
  const au = await startService('au-scorer', { nats, env });
  started.push(au);
  await au.waitForOutput(
    /"msg":"handling event".*"deliveries":2|"deliveries":2.*"msg":"handling event"/,
    60_000,
  );
  await eventually(
    async () => (await bus.jsm.streams.info(events.framesExtracted.stream)).state.messages === 0,
    'the frame batch to be acked',
  );
  const scored = await storedMessages(bus, events.auScored.stream, events.auScored.subject, (b) =>
    fromBinary(AuScoredSchema, b),
  );
  const forJob = scored.filter((s) => s.jobId === 'job-1');
  assert.equal(forJob.length, 1, 'exactly one AuScored for the job and span');
  assert.equal(forJob[0].spanIndex, 0);
  assert.equal(forJob[0].span?.id, 'utt-1');
  // The video was decoded (a test pattern has no face), not rejected for a missing source.
  assert.equal(forJob[0].error?.code, 'NO_FACE', JSON.stringify(forJob[0].error));

  // One trace: tests publish -> frame-extractor consume -> its publish -> au-scorer consume.
  const spans = await eventually(() => {
    const all = readSpanFile(spanFile);
    return all.some((s) => s.service === 'au-scorer' && s.name === 'consume emoverse.frames.extracted')
      ? all
      : undefined;
  }, 'the au-scorer consumer span');
  const publish = spans.find(
    (s) =>
      s.service === 'tests' &&
      s.name === 'publish emoverse.video.submitted' &&
      s.attributes['messaging.message.id'] === submitted.msgId &&
      !s.attributes['messaging.duplicate'],
  )!;
  assert.ok(publish, 'the publisher span was recorded');
  const feConsume = spans.find(
    (s) => s.service === 'frame-extractor' && s.name === 'consume emoverse.video.submitted',
  )!;
  assert.equal(feConsume.traceId, publish.traceId);
  assert.equal(
    feConsume.parentSpanId,
    publish.spanId,
    'the publisher span is the parent of the consumer span',
  );
  const fePublish = spans.find(
    (s) => s.service === 'frame-extractor' && s.name === 'publish emoverse.frames.extracted',
  )!;
  assert.equal(fePublish.parentSpanId, feConsume.spanId);
  const auConsume = spans.find(
    (s) => s.service === 'au-scorer' && s.name === 'consume emoverse.frames.extracted',
  )!;
  assert.equal(auConsume.traceId, publish.traceId, 'one job is one trace across services');
  assert.equal(auConsume.parentSpanId, fePublish.spanId);
});

test('a malformed event goes to the dead letters with a reason and the worker keeps serving', async () => {
  const fe = started.find((s) => s.name === 'frame-extractor')!;
  await bus.js.publish(events.videoSubmitted.subject, new TextEncoder().encode('{"not":"protobuf"}'), {
    msgID: 'garbage-video',
  });
  const [dl] = await eventually(async () => {
    const d = (await deadLetters(bus, events.videoSubmitted.subject)).filter(
      (x) => x.headers['Nats-Msg-Id'] === 'garbage-video',
    );
    return d.length ? d : undefined;
  }, 'the dead letter');
  assert.match(dl.reason, /^undecodable emoverse\.v1\.VideoSubmitted: /);
  assert.equal(dl.consumer, 'frame-extractor');
  assert.equal(new TextDecoder().decode(dl.original), '{"not":"protobuf"}');
  assert.equal(fe.proc.exitCode, null, 'the worker did not crash');
  assert.equal(await checkHealth(fe.grpcAddress), 'SERVING');
  // And it still does its work.
  await bus.publish(
    events.videoSubmitted,
    { jobId: 'job-2', source: { case: 'path', value: '/nowhere.mp4' } },
    { msgId: 'video:job-2' },
  );
  await eventually(async () => {
    const s = await storedMessages(bus, events.auScored.stream, events.auScored.subject, (b) =>
      fromBinary(AuScoredSchema, b),
    );
    return s.some((x) => x.jobId === 'job-2') || undefined;
  }, 'job-2 to reach au-scorer');
});
