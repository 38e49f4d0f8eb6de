// The declared topology against a real single nats-server: replica counts from config, and existing streams or buckets with other settings reported, never reused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import { connect, type NatsConnection } from 'nats';
import { type Bus, blobBuckets, connectBus, events, kvBuckets, TopologyMismatchError } from '../index.js';
import { kvBucketOptions, objectStoreOptions, streamConfig } from './topology.js';

let server: NatsServer;
let admin: NatsConnection;
const opened: Bus[] = [];

before(async () => {
  server = await startNatsServer();
  const { servers, auth } = server.client();
  admin = await connect({ servers, user: auth.user, pass: auth.pass });
});
after(async () => {
  await Promise.all(opened.map((b) => b.close()));
  await admin.close();
  await server.stop();
});

async function bus(replicas?: number, ensure = true): Promise<Bus> {
  const b = await connectBus({ ...server.client(), name: 'topology-spec', replicas, ensureStreams: ensure });
  opened.push(b);
  return b;
}

test('every stream, KV bucket and object store takes its replica count from the configuration', () => {
  for (const replicas of [1, 3]) {
    for (const event of Object.values(events))
      assert.equal(streamConfig(event, { replicas }).num_replicas, replicas, event.stream);
    for (const bucket of Object.values(kvBuckets))
      assert.equal(kvBucketOptions(bucket, { replicas }).replicas, replicas, bucket);
    for (const bucket of Object.values(blobBuckets))
      assert.equal(objectStoreOptions(bucket, { replicas }).replicas, replicas, bucket);
  }
  assert.equal(streamConfig(events.auScored).num_replicas, 1, 'one replica by default');
  assert.throws(() => streamConfig(events.auScored, { replicas: 0 }), /integer from 1 to 5/);
  assert.throws(
    () => kvBucketOptions('emoverse-undeclared'),
    /KV bucket emoverse-undeclared is not declared/,
  );
  assert.throws(() => objectStoreOptions('nowhere'), /object-store bucket nowhere is not declared/);
});

test('a single node creates every declared stream and bucket with one replica, and a second connect reuses them', async () => {
  const first = await bus(1);
  const jsm = first.jsm;
  for (const event of Object.values(events)) {
    const info = await jsm.streams.info(event.stream);
    assert.equal(info.config.num_replicas, 1, event.stream);
  }
  await first.kv(kvBuckets.models);
  await first.jobs();
  await first.blobs.put(blobBuckets.frames, 'a/b.bin', new Uint8Array([1, 2, 3]));
  assert.equal((await jsm.streams.info(`KV_${kvBuckets.models}`)).config.num_replicas, 1);
  assert.equal((await jsm.streams.info(`KV_${kvBuckets.jobs}`)).config.max_msgs_per_subject, 5);
  assert.equal((await jsm.streams.info(`OBJ_${blobBuckets.frames}`)).config.num_replicas, 1);
  // Identical declarations are idempotent: a second service starting against the same server is fine.
  const second = await bus(1);
  assert.equal((await (await second.kv(kvBuckets.models)).status()).replicas, 1);
  assert.deepEqual([...(await second.blobs.get({ bucket: blobBuckets.frames, name: 'a/b.bin' }))], [1, 2, 3]);
});

test('three replicas on a single node fail at connect with what is needed', async () => {
  await assert.rejects(
    connectBus({ ...server.client(), name: 'topology-spec', replicas: 3, ensureStreams: true }),
    /^Error: cannot create stream EMOVERSE_VIDEO_SUBMITTED with 3 replica\(s\): replicas > 1 not supported in non-clustered mode \(3 replicas need a NATS cluster of at least 3 JetStream nodes; set EMOVERSE_STREAM_REPLICAS=1 for a single node\)$/,
  );
  // A bucket that does not exist yet cannot be made with three copies on one node: the error says why.
  const r3 = await bus(3, false);
  await assert.rejects(
    r3.blobs.put(blobBuckets.datasets, 'x', new Uint8Array([1])),
    /cannot create object store emoverse-datasets with 3 replica\(s\): .*need a NATS cluster of at least 3 JetStream nodes/,
  );
});

test('a KV bucket or object store that exists with other settings is reported, not reused', async () => {
  const r3 = await bus(3, false);
  await assert.rejects(r3.kv(kvBuckets.models), (err: Error) => {
    assert.ok(err instanceof TopologyMismatchError, err.message);
    assert.equal(err.kind, 'KV bucket');
    assert.equal(err.resource, kvBuckets.models);
    assert.deepEqual(err.differences, [{ setting: 'num_replicas', existing: 1, declared: 3 }]);
    return true;
  });
  await assert.rejects(
    r3.blobs.get({ bucket: blobBuckets.frames, name: 'a/b.bin' }),
    /object store emoverse-frames already exists with other settings \(num_replicas is 1, declared 3\)/,
  );
  // A bucket made by hand with another history is refused too, whatever the replica count.
  const js = admin.jetstream();
  await js.views.kv(kvBuckets.processed, { history: 7 });
  const r1 = await bus(1, false);
  await assert.rejects(r1.kv(kvBuckets.processed), /max_msgs_per_subject is 7, declared 1/);
});

test('a stream that exists with other settings is reported, not updated', async () => {
  const jsm = await admin.jetstreamManager();
  const declared = streamConfig(events.trainingProgress);
  await jsm.streams.delete(declared.name);
  await jsm.streams.add({ ...declared, max_age: 3600 * 1e9 });
  await assert.rejects(bus(1), (err: Error) => {
    assert.ok(err instanceof TopologyMismatchError, err.message);
    assert.equal(err.kind, 'stream');
    assert.match(
      err.message,
      /^stream EMOVERSE_TRAINING_PROGRESS already exists with other settings \(max_age is 3600000000000, declared 604800000000000\); it is not reused/,
    );
    return true;
  });
  assert.equal((await jsm.streams.info(declared.name)).config.max_age, 3600 * 1e9, 'left as it was');
});
