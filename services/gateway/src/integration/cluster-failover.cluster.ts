// Two gateway replicas on a real three-node JetStream cluster (R3 registry KV and stores): SIGKILL of the node leading the model registry's KV under load fails no request, and a model published afterwards reaches both replicas.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Bus, blobBuckets, connectBus, kvBuckets, ModelRegistry } from '@emoverse/bus';
import { MODEL_FILES } from '@emoverse/models';
import { EMOTION_LABELS, loadBase } from '@emoverse/serving';
import {
  eventually,
  eventuallyWithin,
  type NatsCluster,
  type ServiceProcess,
  sharedDir,
  startNatsCluster,
  startService,
} from '@emoverse/testing';
import * as grpc from '@grpc/grpc-js';
import { GatewayClient } from '../client.js';

const corpus = join(sharedDir(), 'data/m2se_format/meld_dev_er_sample.json');
const texts = ['Oh my God!', 'What?', 'I love it.', 'Get out of here.', 'Fine, whatever.', 'No way!'];
const tmp = mkdtempSync(join(tmpdir(), 'gateway-cluster-'));

let cluster: NatsCluster;
let bus: Bus;
const replicas: ServiceProcess[] = [];
const clients: GatewayClient[] = [];

before(async () => {
  cluster = await startNatsCluster();
  bus = await connectBus({ ...cluster.client(), name: 'cluster-failover-test', replicas: 3 });
  // The registry KV and the checkpoint store exist (R3) before the gateways start, so their leaders
  // can be found and killed.
  await bus.kv(kvBuckets.models);
  await bus.blobs.put(blobBuckets.checkpoints, 'cluster-failover/probe', new Uint8Array([1]));
  for (let i = 0; i < 2; i++) {
    replicas.push(
      await startService('gateway', {
        timeoutMs: 120_000,
        nats: cluster,
        env: {
          EMOVERSE_STREAM_REPLICAS: '3',
          EMOVERSE_LOG_LEVEL: 'warn',
          EMOVERSE_MODEL_SEED: '1',
          EMOVERSE_NANO_CORPUS: corpus,
          EMOVERSE_MODEL_CACHE: join(tmp, `replica-${i}`),
          EMOVERSE_MAX_BATCH: '8',
          EMOVERSE_MAX_WAIT_MS: '5',
        },
      }),
    );
  }
  for (const r of replicas) clients.push(new GatewayClient(r.grpcAddress));
});

after(async () => {
  for (const c of clients) c.close();
  await Promise.all(replicas.map((r) => r.stop()));
  await bus?.close();
  await cluster?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Saves another nano as a version, uploads it to the checkpoint store and publishes it in the registry. */
async function publishVersion(version: string, seed: number): Promise<void> {
  const model = loadBase({ nano: { seed, corpusFiles: [corpus] } });
  model.save(join(tmp, version));
  await model.release();
  const checkpoint = await ModelRegistry.upload(bus, {
    dir: join(tmp, version),
    files: MODEL_FILES,
    bucket: blobBuckets.checkpoints,
    name: `nano-${version}`,
  });
  await ModelRegistry.publish(bus, { modelId: 'emoverse-nano', version, checkpoint });
}

/**
 * Waits until the registry KV and the checkpoint store have leaders other than `down`: the registry's
 * writes (KV put, object-store put) are not retried by the registry itself, so the publisher waits.
 */
async function leadersElsewhere(down: string): Promise<void> {
  for (const stream of [`KV_${kvBuckets.models}`, `OBJ_${blobBuckets.checkpoints}`])
    await eventuallyWithin(
      async () => (await cluster.leaderOf(stream, 5_000)) !== down,
      `a new leader of ${stream}`,
      60_000,
    );
}

/** The last lines each replica printed, for a failure message. */
const replicaLogs = () => replicas.map((r) => `--- ${r.name}\n${r.output().slice(-3000)}`).join('\n');

/** Waits until every replica answers with `version` (at most 60 s); fails with both replicas' output. */
async function servedEverywhere(version: string): Promise<void> {
  for (const c of clients)
    await eventually(
      async () => (await c.emotion({ input: { text: 'Hi.' } })).model?.version === version,
      `${version} on every replica`,
      240,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${replicaLogs()}`);
    });
}

test('SIGKILL of the registry KV leader under load: zero failed requests, and a later model reaches both replicas', {
  timeout: 300_000,
}, async (t) => {
  const t0 = Date.now();
  const stage = (what: string) => {
    t.diagnostic(`${Date.now() - t0} ms: ${what}`);
    console.error(`[cluster-failover] ${Date.now() - t0} ms: ${what}`); // seen even if the test times out
  };
  const registryStream = `KV_${kvBuckets.models}`;
  const victim = await cluster.leaderOf(registryStream);
  const versions = clients.map(() => new Set<string>());
  const failures: string[] = [];
  // load runs until both replicas serve v2 (a gateway notices a lost subscription after 5 s, then
  // fetches and loads v2), at most 120 s and 20,000 requests
  const maxRequests = 20_000;
  const loadUntil = Date.now() + 120_000;
  let sent = 0;
  let killed: Promise<void> | undefined;
  let publishing: Promise<void> | undefined;
  const bothOnV2 = () => versions.every((v) => v.has('v2'));
  const worker = async (w: number) => {
    while (sent < maxRequests && Date.now() < loadUntil && !bothOnV2()) {
      const n = sent++;
      // Under load: kill the leader of the registry KV, then publish v2 while that node is down.
      if (n === 40) killed = cluster.kill(victim).then(() => stage(`${victim} killed`));
      if (n === 80)
        publishing = killed!
          .then(() => leadersElsewhere(victim))
          .then(() => stage('new leaders elected'))
          .then(() => publishVersion('v2', 2))
          .then(() => stage('v2 published'));
      const replica = n % clients.length;
      try {
        const r = await clients[replica].emotion(
          { input: { text: texts[(n + w) % texts.length] } },
          { timeoutMs: 30_000 },
        );
        assert.ok((EMOTION_LABELS as readonly string[]).includes(r.label));
        versions[replica].add(r.model!.version);
      } catch (e) {
        failures.push(`${grpc.status[(e as grpc.ServiceError).code]}: ${(e as grpc.ServiceError).details}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
  await publishing;
  stage(
    `load done: ${sent} requests, ${failures.length} failed, versions ${JSON.stringify(versions.map((v) => [...v]))}`,
  );
  assert.deepEqual(failures, [], 'no request failed while the node was down');
  assert.ok(sent > 80, `the load ran through the kill (${sent} requests)`);
  assert.ok(
    bothOnV2(),
    `both replicas switched to v2 within 120 s (${sent} requests): ${JSON.stringify(versions.map((v) => [...v]))}\n${replicaLogs()}`,
  );
  assert.notEqual(await cluster.leaderOf(registryStream), victim, 'another node leads the registry KV');
  for (const c of clients) assert.equal((await c.emotion({ input: { text: 'Hi.' } })).model?.version, 'v2');

  // The killed node comes back and catches up; then the new leader is killed and v3 still reaches both.
  await cluster.start(victim);
  await cluster.waitHealthy(30_000);
  stage(`${victim} restarted and healthy`);
  const second = await cluster.leaderOf(registryStream);
  await cluster.kill(second);
  await leadersElsewhere(second);
  await publishVersion('v3', 3);
  stage(`v3 published with ${second} down`);
  await servedEverywhere('v3');
  for (const r of replicas)
    assert.equal(r.proc.exitCode, null, `${r.name} exited:\n${r.output().slice(-2000)}`);
  await cluster.start(second);
  await cluster.waitHealthy(30_000);
  assert.ok(Date.now() - t0 < 120_000, `took ${Date.now() - t0} ms`);
});
