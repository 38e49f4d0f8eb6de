// A publish that no stream stores fails with BusUnavailableError after bounded retries, and a worker that could not publish never acks its input: it is retried, not dead-lettered, and completes once the stream is back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import { type Bus, BusUnavailableError, connectBus, events } from '../index.js';
import { eventually } from './test-support.js';
import { streamConfig } from './topology.js';

let server: NatsServer;
let bus: Bus;

before(async () => {
  server = await startNatsServer();
  bus = await connectBus({ ...server.client(), name: 'unavailable-spec' });
});
after(async () => {
  await bus.close();
  await server.stop();
});

test('a publish nobody stores is retried for retryForMs, then fails with a clear BusUnavailableError', async () => {
  await bus.jsm.streams.delete(events.emtRecord.stream);
  const t0 = Date.now();
  const failed = assert.rejects(
    bus.publish(events.emtRecord, { id: 'r-1' }, { msgId: 'r-1', retryForMs: 3_000, timeoutMs: 500 }),
    (err: Error) => {
      assert.ok(err instanceof BusUnavailableError, err.message);
      assert.equal(err.subject, events.emtRecord.subject);
      assert.ok(err.attempts >= 2, `retried (${err.attempts} attempts)`);
      assert.match(
        err.message,
        /^JetStream did not store emoverse\.emt\.record after \d+ attempt\(s\) over \d+ ms \(last error: 503\): no stream leader answers; is a quorum of the NATS cluster up\?/,
      );
      return true;
    },
  );
  await failed.finally(() => bus.jsm.streams.add(streamConfig(events.emtRecord)));
  const took = Date.now() - t0;
  assert.ok(took >= 3_000 && took < 10_000, `bounded by retryForMs (${took} ms)`);
});

test('a worker whose output cannot be stored never acks its input; it completes once the stream is back', async () => {
  await bus.jsm.streams.delete(events.emtRecord.stream);
  const attempts: number[] = [];
  const consumer = await bus.consume(
    events.sourceRecord,
    async (s, d) => {
      attempts.push(d.deliveries);
      await d.publish(events.emtRecord, { id: `er/${s.id}` }, { retryForMs: 300, timeoutMs: 200 });
    },
    // Fewer deliveries allowed than it will take: an unavailable bus must not dead-letter the input.
    { durable: 'spec-unavailable', maxDeliver: 3, backoffMs: [100], dedupe: false },
  );
  await bus.publish(events.sourceRecord, { id: 's-1' }, { msgId: 'source:s-1' });
  await eventually(() => attempts.length >= 2 || undefined, 'a second delivery');
  const pending = await bus.jsm.consumers.info(events.sourceRecord.stream, 'spec-unavailable');
  assert.equal(pending.num_ack_pending + pending.num_pending, 1, 'the input is still in the work queue');
  await bus.jsm.streams.add(streamConfig(events.emtRecord));
  await eventually(
    async () => (await bus.jsm.streams.info(events.emtRecord.stream)).state.messages === 1 || undefined,
    'the record once the stream is back',
  );
  await eventually(
    async () => (await bus.jsm.streams.info(events.sourceRecord.stream)).state.messages === 0 || undefined,
    'the input acked',
  );
  const dead = await bus.jsm.streams.info(events.deadLetter.stream);
  assert.equal(dead.state.messages, 0, 'nothing dead-lettered');
  await consumer.stop();
});
