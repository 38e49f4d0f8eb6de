// The three-node cluster: it elects leaders, an R3 stream survives SIGKILL of its leader and then of a second node after the first caught up, and clients must log in.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { connect, type NatsConnection, StorageType } from 'nats';
import { eventuallyWithin } from './eventually.js';
import { type NatsCluster, startNatsCluster } from './nats-cluster.js';

let cluster: NatsCluster;
let nc: NatsConnection;
const STREAM = 'CLUSTER_PROBE';

before(async () => {
  cluster = await startNatsCluster();
  const { servers, auth } = cluster.client('operator');
  nc = await connect({
    servers,
    user: auth.user,
    pass: auth.pass,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
});
after(async () => {
  await nc?.close();
  await cluster?.stop();
});

/** Publishes `count` messages numbered from `from`, retrying each (for at most 30 s) until the stream acknowledges it. */
async function publish(from: number, count: number): Promise<void> {
  const js = nc.jetstream();
  const deadline = Date.now() + 30_000;
  for (let i = from; i < from + count; i++) {
    for (;;) {
      try {
        await js.publish('emoverse.probe.m', new TextEncoder().encode(String(i)), {
          msgID: `m${i}`,
          timeout: 2_000,
        });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}

/** The stream's message count once its leader answers (at most 30 s: a leader may be in election). */
const messages = () =>
  eventuallyWithin(
    async () => (await (await nc.jetstreamManager({ timeout: 5_000 })).streams.info(STREAM)).state.messages,
    `${STREAM}'s message count`,
    30_000,
  );

test('three nodes with their own stores, every URL for clients, and the generated users required', async () => {
  assert.equal(cluster.nodes.length, 3);
  assert.deepEqual(
    cluster.nodes.map((n) => n.name),
    ['n1', 'n2', 'n3'],
  );
  assert.equal(new Set(cluster.nodes.map((n) => n.storeDir)).size, 3, 'a store folder each');
  assert.equal(cluster.env('gateway').NATS_URL, cluster.urls.join(','));
  assert.deepEqual(cluster.client('gateway').servers, cluster.urls);
  await assert.rejects(connect({ servers: cluster.urls[0], timeout: 3_000 }), /authorization violation/i);
});

test('an R3 stream keeps every message through SIGKILL of its leader, and of a second node once the first caught up', async () => {
  const jsm = await nc.jetstreamManager({ timeout: 5_000 });
  // creating an R3 stream needs the meta leader and two peers: asked again until they answer (30 s)
  await eventuallyWithin(
    () =>
      jsm.streams.add({
        name: STREAM,
        subjects: ['emoverse.probe.>'],
        num_replicas: 3,
        storage: StorageType.File,
      }),
    `the R3 stream ${STREAM}`,
    30_000,
  );
  await publish(0, 50);
  const first = await cluster.leaderOf(STREAM);
  const t0 = Date.now();
  await cluster.kill(first);
  assert.equal(cluster.node(first).running(), false);
  await publish(50, 50);
  const second = await cluster.leaderOf(STREAM);
  assert.notEqual(second, first, 'another node leads');
  assert.equal(await messages(), 100, 'nothing lost, nothing stored twice');
  const failoverMs = Date.now() - t0;

  await cluster.start(first);
  await cluster.waitHealthy();
  assert.ok(existsSync(cluster.node(first).storeDir));
  // Caught up: the restarted node is a current replica of the stream again.
  await eventuallyWithin(
    async () => {
      const replica = (await jsm.streams.info(STREAM)).cluster?.replicas?.find((r) => r.name === first);
      return replica?.current && !replica.offline;
    },
    `${first} to be a current replica of ${STREAM} again`,
    30_000,
  );

  await cluster.kill(second);
  await publish(100, 50);
  assert.notEqual(await cluster.leaderOf(STREAM), second);
  assert.equal(await messages(), 150);
  await cluster.start(second);
  await cluster.waitHealthy();
  assert.ok(failoverMs < 20_000, `failover took ${failoverMs} ms`);
});
