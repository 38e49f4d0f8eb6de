// The full demo's release stage against a real nats-server: the committed artifact is verified, published
// as a version of the served model id, and what a gateway fetches is the artifact, file for file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Bus, connectBus, ModelRegistry } from '@emoverse/bus';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import { publishRelease } from './release.js';

const repo = join(import.meta.dirname, '../../../..');
const releaseDir = join(repo, 'release/models/m2se-nano');
let server: NatsServer;
let bus: Bus;
let dir: string;

before(async () => {
  server = await startNatsServer();
  bus = await connectBus({ ...server.client(), name: 'demo-release-spec' });
  dir = mkdtempSync(join(tmpdir(), 'demo-release-'));
});
after(async () => {
  await bus.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('publishes the verified release as the current version, and a gateway fetches the same files', async () => {
  const { published, release } = await publishRelease(bus, {
    releaseDir,
    workDir: dir,
    modelId: 'emoverse-nano',
  });
  assert.equal(release.recipe, 'm2se-nano');
  const files = Object.keys(release.files);
  const registry = new ModelRegistry(bus, {
    modelId: 'emoverse-nano',
    cacheDir: join(dir, 'cache'),
    files: { model: files, adapter: [] },
  });
  assert.equal((await registry.current())?.version, published.version);
  const fetched = await registry.fetchCheckpoint(published);
  for (const f of files)
    assert.deepEqual(readFileSync(join(fetched, f)), readFileSync(join(releaseDir, f)), f);
  assert.throws(
    () => readFileSync(join(releaseDir, 'sha256sums.json')),
    'the committed folder is left as it is',
  );
});
