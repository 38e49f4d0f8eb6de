// The model registry against a real nats-server: what the trainer uploads and publishes is what a gateway
// reads (current version, adapters, the event) and fetches, verified against the published digest; a
// tampered file is refused and nothing of it stays on disk; a folder without a digest is fetched as is.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ModelPublished } from '@emoverse/proto';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import { type Bus, blobBuckets, connectBus, fetchFolder, ModelRegistry } from '../index.js';
import { eventually } from './test-support.js';

const files = { model: ['config.json', 'llm/model.safetensors'], adapter: ['adapter_config.json'] };
let server: NatsServer;
let bus: Bus;
let dir: string;

before(async () => {
  server = await startNatsServer();
  bus = await connectBus({ ...server.client(), name: 'registry-spec' });
  dir = mkdtempSync(join(tmpdir(), 'bus-registry-'));
});
after(async () => {
  await bus.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A folder holding `names`, each file's text its name and `tag`. */
function folder(name: string, names: readonly string[], tag: string): string {
  const root = join(dir, name);
  for (const f of names) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), `${f} ${tag}`);
  }
  return root;
}

test('a published version and adapter are read, announced and fetched as uploaded', async () => {
  const registry = new ModelRegistry(bus, { modelId: 'm', cacheDir: join(dir, 'cache'), files });
  const seen: ModelPublished[] = [];
  const sub = await registry.watch((p) => void seen.push(p));
  assert.equal(await registry.current(), undefined);
  const checkpoint = await ModelRegistry.upload(bus, {
    dir: folder('v1', files.model, 'v1'),
    files: files.model,
    bucket: blobBuckets.checkpoints,
    name: 'runs/r1/model',
  });
  assert.match(checkpoint.digest, /^SHA-256=/);
  assert.ok(checkpoint.size > 0n);
  await ModelRegistry.publish(bus, { modelId: 'm', version: 'v1', checkpoint });
  const adapter = await ModelRegistry.upload(bus, {
    dir: folder('a1', files.adapter, 'a1'),
    files: files.adapter,
    bucket: blobBuckets.adapters,
    name: 'runs/r1/adapter',
  });
  await ModelRegistry.publish(bus, { modelId: 'm', version: 'v1', adapterName: 'fer', adapter });

  const current = await registry.current();
  assert.equal(current?.version, 'v1');
  assert.deepEqual(
    (await registry.adapters()).map((a) => a.adapterName),
    ['fer'],
  );
  await eventually(() => seen.length === 2, 'both model.published events');
  await sub.stop();
  const fetched = await registry.fetchCheckpoint(current!);
  assert.equal(readFileSync(join(fetched, 'llm/model.safetensors'), 'utf8'), 'llm/model.safetensors v1');
  const fer = await registry.fetchAdapter((await registry.adapters())[0]);
  assert.equal(fer, join(registry.adapterDir, 'fer'));
});

test('a tampered file is refused and removed; a folder without a digest is fetched as is', async () => {
  const registry = new ModelRegistry(bus, { modelId: 'm', cacheDir: join(dir, 'cache2'), files });
  const checkpoint = await ModelRegistry.upload(bus, {
    dir: folder('v2', files.model, 'v2'),
    files: files.model,
    bucket: blobBuckets.checkpoints,
    name: 'runs/r2/model',
  });
  await bus.blobs.put(blobBuckets.checkpoints, 'runs/r2/model/config.json', new TextEncoder().encode('evil'));
  const p = await ModelRegistry.publish(bus, { modelId: 'm', version: 'v2', checkpoint });
  await assert.rejects(registry.fetchCheckpoint(p), /runs\/r2\/model\/config\.json has sha256/);
  assert.equal(existsSync(join(dir, 'cache2', 'models', 'v2')), false);

  const plain = await fetchFolder(bus.blobs, {
    ref: { bucket: blobBuckets.checkpoints, name: 'runs/r2/model' },
    files: files.model,
    dir: join(dir, 'plain'),
  });
  assert.equal(readFileSync(join(plain, 'config.json'), 'utf8'), 'evil');
  await assert.rejects(
    fetchFolder(bus.blobs, {
      ref: { bucket: blobBuckets.checkpoints, name: 'nothing' },
      files: files.model,
      dir,
    }),
    /no files under emoverse-checkpoints\/nothing/,
  );
});
