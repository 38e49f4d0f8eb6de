// Each service's NATS identity can do its job and is refused the rest, against a real nats-server running the generated permissions.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { JobStatus } from '@emoverse/proto';
import { type NatsServer, natsAuthorizationFile, natsUsers, startNatsServer } from '@emoverse/testing';
import { connect } from 'nats';
import { authorizationFile } from './authorization-cli.js';
import {
  type Bus,
  blobBuckets,
  connectBus,
  events,
  type Identity,
  identityNames,
  kvBuckets,
  natsAuthorizationConfig,
  natsPermissions,
  passwordVariable,
} from './index.js';
import { eventually } from './private/test-support.js';

let server: NatsServer;
const log = (o: object, m?: string) => console.error(m, JSON.stringify(o));
const open: Bus[] = [];

async function as(identity: Identity): Promise<Bus> {
  const bus = await connectBus({
    ...server.client(identity),
    name: `permissions-${identity}`,
    identity,
    logger: process.env.EMOVERSE_TEST_VERBOSE ? { debug() {}, info: log, warn: log, error: log } : undefined,
  });
  open.push(bus);
  return bus;
}

/** The promise fails with NATS's permissions violation (or the JetStream API's refusal). */
async function refused(what: Promise<unknown>, subject: RegExp): Promise<void> {
  await assert.rejects(what, (err: Error) => {
    assert.match(err.message, /permission/i);
    assert.match(err.message, subject);
    return true;
  });
}

before(async () => {
  server = await startNatsServer();
});
after(async () => {
  for (const b of open) await b.close();
  await server.stop();
});

test('the chart and the local stack run the authorization file generated from the permission table', () => {
  assert.equal(authorizationFile, natsAuthorizationFile());
  assert.equal(
    readFileSync(authorizationFile, 'utf8'),
    natsAuthorizationConfig(),
    'deploy/helm/emoverse/files/nats-authorization.conf is stale: run `npm run nats:authorization -w @emoverse/bus`',
  );
  assert.deepEqual([...natsUsers().keys()], [...identityNames]);
  assert.deepEqual([...natsUsers().values()], identityNames.map(passwordVariable));
});

test('nats-server -t accepts the authorization file with every password set, and names a missing one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nats-auth-'));
  try {
    writeFileSync(join(dir, 'nats.conf'), `port: 4222\n${natsAuthorizationConfig()}`);
    const env = Object.fromEntries(identityNames.map((id) => [passwordVariable(id), `pw-${id}`]));
    const ok = spawnSync('nats-server', ['-c', join(dir, 'nats.conf'), '-t'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(ok.status, 0, ok.stderr);
    const { NATS_PASSWORD_GATEWAY: _gone, ...missing } = env;
    const bad = spawnSync('nats-server', ['-c', join(dir, 'nats.conf'), '-t'], {
      env: { ...process.env, ...missing },
      encoding: 'utf8',
    });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr + bad.stdout, /NATS_PASSWORD_GATEWAY/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('only the trainer may publish model.published or write the registry and the model stores', () => {
  for (const id of identityNames) {
    if (id === 'operator') continue;
    const p = natsPermissions(id).publish;
    const writesModels =
      p.includes(events.modelPublished.subject) ||
      p.some((s) => s.startsWith(`$KV.${kvBuckets.models}.`)) ||
      p.some(
        (s) => s.startsWith(`$O.${blobBuckets.checkpoints}.`) || s.startsWith(`$O.${blobBuckets.adapters}.`),
      );
    assert.equal(writesModels, id === 'trainer', id);
    assert.ok(!p.some((s) => s.endsWith('>') && s.split('.').length <= 2), `${id} has no broad wildcard`);
  }
});

test('a client without credentials, or with a wrong password, cannot connect', async () => {
  await assert.rejects(connect({ servers: server.url, timeout: 3_000 }), /authorization violation/i);
  await assert.rejects(
    connect({ servers: server.url, user: 'gateway', pass: 'wrong', timeout: 3_000 }),
    /authorization violation/i,
  );
  await assert.rejects(
    connect({ servers: server.url, user: 'nobody', pass: server.password('gateway'), timeout: 3_000 }),
    /authorization violation/i,
  );
});

test('the trainer publishes a model: registry KV, checkpoint blob, model.published and job state', async () => {
  const trainer = await as('trainer');
  const ref = await trainer.blobs.put(
    blobBuckets.checkpoints,
    'v1/model.safetensors',
    new Uint8Array([1, 2, 3]),
  );
  const kv = await trainer.kv(kvBuckets.models);
  await kv.put('emoverse-nano', new Uint8Array([9]));
  await trainer.publish(events.modelPublished, { modelId: 'emoverse-nano', version: 'v1', checkpoint: ref });
  const jobs = await trainer.jobs();
  await jobs.put({ jobId: 'run-1', kind: 'training' });
  assert.equal((await jobs.get('run-1'))?.kind, 'training');
  const datasets = await as('operator');
  await datasets.blobs.put(blobBuckets.datasets, 'd/manifest.json', new TextEncoder().encode('{}'));
  assert.equal(
    new TextDecoder().decode(
      await trainer.blobs.get({ bucket: blobBuckets.datasets, name: 'd/manifest.json' }),
    ),
    '{}',
  );
});

test('the gateway reads the registry, the checkpoints and model.published', async () => {
  const gateway = await as('gateway');
  const kv = await gateway.kv(kvBuckets.models);
  assert.deepEqual([...((await kv.get('emoverse-nano'))?.value ?? [])], [9]);
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  assert.deepEqual(keys, ['emoverse-nano']);
  assert.deepEqual(
    [...(await gateway.blobs.get({ bucket: blobBuckets.checkpoints, name: 'v1/model.safetensors' }))],
    [1, 2, 3],
  );
  const dir = mkdtempSync(join(tmpdir(), 'perm-'));
  try {
    await gateway.blobs.getToFile(
      { bucket: blobBuckets.checkpoints, name: 'v1/model.safetensors' },
      join(dir, 'm'),
    );
    assert.deepEqual([...readFileSync(join(dir, 'm'))], [1, 2, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const seen: string[] = [];
  const sub = await gateway.subscribe(events.modelPublished, (p) => void seen.push(p.version), {
    from: 'all',
  });
  await eventually(() => seen.includes('v1'), 'the gateway sees model.published');
  await sub.stop();
});

test('the gateway may not publish model.published', async () => {
  const gateway = await as('gateway');
  await refused(
    gateway.publish(events.modelPublished, { modelId: 'emoverse-nano', version: 'evil' }),
    /emoverse\.model\.published/,
  );
});

test('the gateway may not write the registry KV', async () => {
  const gateway = await as('gateway');
  const kv = await gateway.kv(kvBuckets.models);
  await refused(kv.put('emoverse-nano', new Uint8Array([6, 6, 6])), /\$KV\.emoverse-models/);
  assert.deepEqual([...((await kv.get('emoverse-nano'))?.value ?? [])], [9], 'the registry is unchanged');
});

test('the gateway may not write the model object store', async () => {
  const gateway = await as('gateway');
  await refused(
    gateway.blobs.put(blobBuckets.checkpoints, 'v1/model.safetensors', new Uint8Array([6, 6, 6])),
    /emoverse-checkpoints/,
  );
  const trainer = await as('trainer');
  assert.deepEqual(
    [...(await trainer.blobs.get({ bucket: blobBuckets.checkpoints, name: 'v1/model.safetensors' }))],
    [1, 2, 3],
    'the checkpoint is unchanged',
  );
});

test('frame-extractor may not read the registry KV, nor subscribe to another identity’s replies', async () => {
  const fx = await as('frame-extractor');
  await refused(fx.kv(kvBuckets.models), /KV_emoverse-models/);
  const sub = fx.nc.subscribe('_INBOX_gateway.>');
  await refused(
    (async () => {
      for await (const _ of sub) break;
    })(),
    /_INBOX_gateway/,
  );
});

test('frame-extractor consumes video work, writes frames and publishes frame batches', async () => {
  const operator = await as('operator');
  const fx = await as('frame-extractor');
  const video = await operator.blobs.put(blobBuckets.videos, 'job-1/v.mp4', new Uint8Array([7]));
  await operator.publish(
    events.videoSubmitted,
    { jobId: 'job-1', source: { case: 'blob', value: video } },
    { msgId: 'job-1' },
  );
  const handled: string[] = [];
  const consumer = await fx.consume(
    events.videoSubmitted,
    async (e, d) => {
      assert.equal(e.source.case, 'blob');
      assert.deepEqual([...(await fx.blobs.get(e.source.value!))], [7]);
      const frame = await fx.blobs.put(blobBuckets.frames, `${e.jobId}/f0.jpg`, new Uint8Array([8]));
      await d.publish(events.framesExtracted, { jobId: e.jobId, frames: [{ index: 0, image: frame }] });
      handled.push(e.jobId);
    },
    { durable: 'frame-extractor' },
  );
  await eventually(() => handled.includes('job-1'), 'frame-extractor handles the video');
  await consumer.stop();
  await refused(fx.publish(events.auScored, { jobId: 'job-1' }), /emoverse\.au\.scored/);
});

test('frame-extractor and au-scorer write a video job’s state and announce it; caption-generator and the gateway may not', async () => {
  const operator = await as('operator');
  const announced: string[] = [];
  const watch = await operator.subscribe(
    events.jobState,
    (s) => void announced.push(`${s.stage} ${JobStatus[s.status]}`),
    { token: 'video-1', from: 'all' },
  );
  const fx = await as('frame-extractor');
  await (await fx.jobs()).put({
    jobId: 'video-1',
    kind: 'video',
    status: JobStatus.RUNNING,
    stage: 'frames',
  });
  const au = await as('au-scorer');
  await (await au.jobs()).patch('video-1', { stage: 'au', status: JobStatus.SUCCEEDED });
  await eventually(() => announced.length === 2, 'both states announced');
  assert.deepEqual(announced, ['frames RUNNING', 'au SUCCEEDED']);
  await watch.stop();
  await refused(au.publish(events.modelPublished, { modelId: 'm', version: 'v' }), /model\.published/);
  const captions = await as('caption-generator');
  await refused(captions.jobs(), /KV_emoverse-jobs/);
  await refused(
    captions.publish(events.jobState, { jobId: 'video-1' }, { token: 'video-1' }),
    /emoverse\.job\.state/,
  );
  const gateway = await as('gateway');
  await refused(gateway.jobs(), /KV_emoverse-jobs/);
});
