// Work queues against a real nats-server: de-duplication, shared durables, retries, dead letters, drain.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { create, fromBinary } from '@bufbuild/protobuf';
import { AuScoredSchema, DeadLetterSchema, VideoSubmittedSchema } from '@emoverse/proto';
import { initTelemetry } from '@emoverse/telemetry';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import { type Bus, connectBus, events, PermanentError } from '../index.js';
import { eventually } from './test-support.js';

let server: NatsServer;
let bus: Bus;
const telemetry = initTelemetry({ serviceName: 'bus-spec', exporter: 'memory', defaultMetrics: false });

before(async () => {
  server = await startNatsServer();
  bus = await connectBus({ ...server.client(), name: 'bus-spec', metrics: telemetry.metrics });
});
after(async () => {
  await bus.close();
  await server.stop();
  await telemetry.shutdown();
});

async function streamCount(stream: string): Promise<number> {
  return (await bus.jsm.streams.info(stream)).state.messages;
}

async function deadLetters(
  subject: string,
): Promise<ReturnType<typeof fromBinary<typeof DeadLetterSchema>>[]> {
  const info = await bus.jsm.streams.info(events.deadLetter.stream);
  const out = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(events.deadLetter.stream, { seq }).catch(() => undefined);
    if (m && m.subject === `emoverse.deadletter.${subject}`) out.push(fromBinary(DeadLetterSchema, m.data));
  }
  return out;
}

async function removeConsumer(stream: string, durable: string): Promise<void> {
  await bus.jsm.consumers.delete(stream, durable).catch(() => undefined);
}

test('an event published twice with one Nats-Msg-Id is stored once', async () => {
  const first = await bus.publish(
    events.videoSubmitted,
    { jobId: 'dup-1', path: '/v.mp4' },
    { msgId: 'video:dup-1' },
  );
  const second = await bus.publish(
    events.videoSubmitted,
    { jobId: 'dup-1', path: '/v.mp4' },
    { msgId: 'video:dup-1' },
  );
  assert.equal(first.duplicate, false);
  assert.equal(second.duplicate, true);
  assert.equal(second.seq, first.seq);
  assert.equal(await streamCount(events.videoSubmitted.stream), 1);
  // Work-queue retention: the handled message leaves the stream once acked.
  const seen: string[] = [];
  const c = await bus.consume(events.videoSubmitted, (e) => void seen.push(e.jobId), { durable: 'spec-dup' });
  await eventually(async () => (await streamCount(events.videoSubmitted.stream)) === 0 || undefined, 'ack');
  assert.deepEqual(seen, ['dup-1']);
  await c.stop();
  await removeConsumer(events.videoSubmitted.stream, 'spec-dup');
});

test('replicas of one durable share the queue: each event is handled once', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const byA: string[] = [];
  const byB: string[] = [];
  const a = await bus.consume(
    events.framesExtracted,
    async (e) => {
      byA.push(e.jobId);
      await gate;
    },
    { durable: 'spec-replicas' },
  );
  await bus.publish(events.framesExtracted, { jobId: 'r0' }, { msgId: 'r0' });
  await eventually(() => byA.length === 1 || undefined, 'replica A to take the first event');
  const b = await bus.consume(events.framesExtracted, (e) => void byB.push(e.jobId), {
    durable: 'spec-replicas',
  });
  for (let i = 1; i <= 6; i++)
    await bus.publish(events.framesExtracted, { jobId: `r${i}` }, { msgId: `r${i}` });
  // While A is busy, B does the rest (A may hold at most one pre-fetched event).
  await eventually(() => byB.length >= 5 || undefined, 'replica B to handle the queue');
  release();
  await eventually(() => byA.length + byB.length === 7 || undefined, 'all events handled');
  await eventually(
    async () => (await streamCount(events.framesExtracted.stream)) === 0 || undefined,
    'queue empty',
  );
  assert.deepEqual([...byA, ...byB].sort(), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  await Promise.all([a.stop(), b.stop()]);
  await removeConsumer(events.framesExtracted.stream, 'spec-replicas');
});

test('a failing handler is retried with backoff, and outputs it published before failing are not duplicated', async () => {
  const deliveries: number[] = [];
  const c = await bus.consume(
    events.framesExtracted,
    async (e, d) => {
      deliveries.push(d.deliveries);
      // Output first, then fail on the first delivery: the retry publishes the same output again.
      await d.publish(events.auScored, { jobId: e.jobId, hasFace: false });
      if (d.deliveries === 1) throw new Error('transient');
    },
    { durable: 'spec-retry', backoffMs: [200] },
  );
  await bus.publish(events.framesExtracted, { jobId: 'retry-1' }, { msgId: 'retry-1' });
  await eventually(() => deliveries.length === 2 || undefined, 'redelivery');
  await eventually(async () => (await streamCount(events.framesExtracted.stream)) === 0 || undefined, 'ack');
  assert.deepEqual(deliveries, [1, 2]);
  assert.equal(await streamCount(events.auScored.stream), 1, 'the output was stored once');
  await c.stop();
  await removeConsumer(events.framesExtracted.stream, 'spec-retry');
  await bus.jsm.streams.purge(events.auScored.stream);
});

test('after maxDeliver failures the event goes to the dead letters with the reason, and onDeadLetter is told', async () => {
  let calls = 0;
  const told: [string, string][] = [];
  const c = await bus.consume(
    events.auScored,
    () => {
      calls++;
      throw new Error('model not loaded');
    },
    {
      durable: 'spec-maxdeliver',
      maxDeliver: 2,
      backoffMs: [100],
      onDeadLetter: (e, reason) => void told.push([e.jobId, reason]),
    },
  );
  const original = create(AuScoredSchema, { jobId: 'dl-1', spanIndex: 3 });
  await bus.publish(events.auScored, original, { msgId: 'dl-1' });
  const [dl] = await eventually(async () => {
    const d = await deadLetters(events.auScored.subject);
    return d.length ? d : undefined;
  }, 'dead letter');
  assert.equal(calls, 2);
  assert.equal(dl.deliveries, 2);
  assert.match(dl.reason, /max deliveries \(2\) reached; last error: model not loaded/);
  assert.equal(dl.subject, events.auScored.subject);
  assert.equal(dl.consumer, 'spec-maxdeliver');
  assert.equal(fromBinary(AuScoredSchema, dl.original).spanIndex, 3);
  assert.equal(dl.headers['Nats-Msg-Id'], 'dl-1');
  await eventually(() => told.length > 0, 'onDeadLetter');
  assert.deepEqual(told, [['dl-1', dl.reason]]);
  await eventually(
    async () => (await streamCount(events.auScored.stream)) === 0 || undefined,
    'removed from queue',
  );
  await c.stop();
  await removeConsumer(events.auScored.stream, 'spec-maxdeliver');
});

test('a malformed event is dead-lettered at once and the worker keeps going', async () => {
  const handled: string[] = [];
  const told: [string, string][] = [];
  const c = await bus.consume(
    events.sourceRecord,
    (e) => {
      if (e.text === 'reject me') throw new PermanentError('empty speaker');
      handled.push(e.id);
    },
    {
      durable: 'spec-malformed',
      // Told of the rejected event only (garbage has no event); its own failure stops nothing.
      onDeadLetter: (e, reason) => {
        told.push([e.id, reason]);
        throw new Error('hook failed');
      },
    },
  );
  // Not a SourceRecord: field 1 declared as a varint but the bytes end mid-value.
  await bus.js.publish(events.sourceRecord.subject, new Uint8Array([0x0a, 0xff, 0xff]), {
    msgID: 'garbage-1',
  });
  await bus.publish(events.sourceRecord, { id: 'bad-input', text: 'reject me' }, { msgId: 'bad-input' });
  await bus.publish(events.sourceRecord, { id: 'good-1', text: 'hello' }, { msgId: 'good-1' });
  await eventually(() => handled.length === 1 || undefined, 'the good event');
  const dls = await eventually(async () => {
    const d = await deadLetters(events.sourceRecord.subject);
    return d.length === 2 ? d : undefined;
  }, 'two dead letters');
  const garbage = dls.find((d) => d.headers['Nats-Msg-Id'] === 'garbage-1')!;
  assert.match(garbage.reason, /^undecodable emoverse\.v1\.SourceRecord: /);
  assert.deepEqual([...garbage.original], [0x0a, 0xff, 0xff]);
  assert.equal(garbage.deliveries, 1);
  const rejected = dls.find((d) => d.headers['Nats-Msg-Id'] === 'bad-input')!;
  assert.equal(rejected.reason, 'rejected: empty speaker');
  assert.deepEqual(handled, ['good-1']);
  await eventually(() => told.length > 0, 'onDeadLetter');
  assert.deepEqual(told, [['bad-input', 'rejected: empty speaker']]);
  // The counter moves just after the dead letter is stored and the original acked.
  const metrics = await eventually(async () => {
    const text = await telemetry.metrics.metrics();
    return /outcome="dead_letter",service="bus-spec"\} 2/.test(
      text
        .split('\n')
        .filter((l) => l.includes('spec-malformed'))
        .join('\n'),
    )
      ? text
      : undefined;
  }, 'the dead-letter counter');
  assert.match(
    metrics,
    /emoverse_bus_messages_total\{subject="emoverse.source.record",durable="spec-malformed",outcome="dead_letter",service="bus-spec"\} 2/,
  );
  assert.match(
    metrics,
    /emoverse_bus_messages_total\{subject="emoverse.source.record",durable="spec-malformed",outcome="ok",service="bus-spec"\} 1/,
  );
  await c.stop();
  await removeConsumer(events.sourceRecord.stream, 'spec-malformed');
});

test('the consumer span is a child of the publisher span', async () => {
  telemetry.memory!.reset();
  const seen: string[] = [];
  const c = await bus.consume(events.emtRecord, (_e, d) => void seen.push(d.span.spanContext().traceId), {
    durable: 'spec-trace',
  });
  const pub = await bus.publish(events.emtRecord, { id: 'trace-1' }, { msgId: 'trace-1' });
  await eventually(() => seen.length === 1 || undefined, 'handled');
  const spans = telemetry.memory!.getFinishedSpans();
  const producer = spans.find(
    (s) => s.name === 'publish emoverse.emt.record' && s.attributes['messaging.message.id'] === pub.msgId,
  )!;
  const consumer = await eventually(
    () => telemetry.memory!.getFinishedSpans().find((s) => s.name === 'consume emoverse.emt.record'),
    'consumer span',
  );
  assert.equal(consumer.spanContext().traceId, producer.spanContext().traceId);
  assert.equal(consumer.parentSpanContext?.spanId, producer.spanContext().spanId);
  assert.equal(seen[0], producer.spanContext().traceId);
  await c.stop();
  await removeConsumer(events.emtRecord.stream, 'spec-trace');
});

test('drain lets an in-flight handler finish and ack before the connection closes', async () => {
  const own = await connectBus({ ...server.client(), name: 'drainer' });
  let finished = false;
  let started!: () => void;
  const startedP = new Promise<void>((r) => {
    started = r;
  });
  await own.consume(
    events.videoSubmitted,
    async () => {
      started();
      await new Promise((r) => setTimeout(r, 300));
      finished = true;
    },
    { durable: 'spec-drain' },
  );
  await bus.publish(events.videoSubmitted, create(VideoSubmittedSchema, { jobId: 'drain-1' }), {
    msgId: 'drain-1',
  });
  await startedP;
  await own.drain();
  assert.equal(finished, true);
  assert.equal(own.nc.isClosed(), true);
  assert.equal(await streamCount(events.videoSubmitted.stream), 0, 'acked before close');
  await removeConsumer(events.videoSubmitted.stream, 'spec-drain');
});

test('an event whose worker never acks is dead-lettered after max deliveries, and onDeadLetter is told', async () => {
  let release!: () => void;
  const hang = new Promise<void>((r) => {
    release = r;
  });
  let calls = 0;
  const told: [string, string][] = [];
  const c = await bus.consume(
    events.videoSubmitted,
    async () => {
      calls++;
      await hang;
    },
    {
      durable: 'spec-hang',
      maxDeliver: 2,
      ackWaitMs: 300,
      heartbeat: false,
      concurrency: 4,
      onDeadLetter: (e, reason) => void told.push([e.jobId, reason]),
    },
  );
  await bus.publish(events.videoSubmitted, { jobId: 'hang-1' }, { msgId: 'hang-1' });
  const [dl] = await eventually(async () => {
    const d = await deadLetters(events.videoSubmitted.subject);
    return d.length ? d : undefined;
  }, 'dead letter from the max-deliveries advisory');
  assert.match(dl.reason, /max deliveries \(2\) reached without an ack/);
  assert.equal(fromBinary(VideoSubmittedSchema, dl.original).jobId, 'hang-1');
  await eventually(() => told.length > 0, 'onDeadLetter');
  assert.deepEqual(told, [['hang-1', dl.reason]]);
  assert.equal(calls, 2);
  assert.equal(await streamCount(events.videoSubmitted.stream), 0);
  release();
  await c.stop();
  await removeConsumer(events.videoSubmitted.stream, 'spec-hang');
});

test('consume refuses broadcast events and a second durable on a work queue', async () => {
  await assert.rejects(
    bus.consume(events.modelPublished, () => {}, { durable: 'x' }),
    /broadcast event: use subscribe/,
  );
  const c = await bus.consume(events.emtRecord, () => {}, { durable: 'spec-first' });
  await assert.rejects(
    bus.consume(events.emtRecord, () => {}, { durable: 'spec-second' }),
    /work queue: only one durable/,
  );
  await c.stop();
  await removeConsumer(events.emtRecord.stream, 'spec-first');
});
