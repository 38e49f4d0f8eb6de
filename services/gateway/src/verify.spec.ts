// Models verified before they are served: a published version whose fetched files do not match the digests the
// publisher recorded is refused (tampered file, rewritten manifest, no digest), the previous version keeps answering
// with zero failed requests, and the refusal is counted; a correct version after that still switches.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import {
  type Bus,
  blobBuckets,
  connectBus,
  digestManifestName,
  ModelRegistry,
  manifestDigest,
} from '@emoverse/bus';
import { MODEL_FILES } from '@emoverse/models';
import { ModelPublishedSchema } from '@emoverse/proto';
import type { RunningService } from '@emoverse/service-kit';
import { KeywordModel } from '@emoverse/serving/testing';
import { eventually, type NatsServer, startNatsServer, waitForHealth } from '@emoverse/testing';
import { GatewayClient } from './client.js';
import { createGatewayService } from './service.js';

const tmp = mkdtempSync(join(tmpdir(), 'gateway-verify-'));
const cache = join(tmp, 'cache');
let nats: NatsServer;
let bus: Bus;
let running: RunningService;
let client: GatewayClient;

before(async () => {
  nats = await startNatsServer();
  bus = await connectBus({ ...nats.client(), name: 'verify-test' });
  running = await createGatewayService({ startModel: async () => new KeywordModel('v1', 1) }).run({
    env: {
      ...nats.env('gateway'),
      EMOVERSE_GRPC_HOST: '127.0.0.1',
      EMOVERSE_GRPC_PORT: '0',
      EMOVERSE_LOG_LEVEL: 'fatal',
      EMOVERSE_MODEL_CACHE: cache,
    },
  });
  await waitForHealth(`127.0.0.1:${running.port}`);
  client = new GatewayClient(`127.0.0.1:${running.port}`);
});

after(async () => {
  client?.close();
  await running?.stop();
  await bus?.close();
  await nats?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** A model folder as EmoVerseLM.save lays it out (the keyword model ignores its contents). */
function modelFolder(version: string): string {
  const dir = join(tmp, version);
  mkdirSync(join(dir, 'llm'), { recursive: true });
  writeFileSync(join(dir, 'emoverse.json'), JSON.stringify({ version }));
  writeFileSync(join(dir, 'llm', 'model.safetensors'), `weights of ${version}`);
  return dir;
}

const served = async () => (await client.emotion({ input: { text: 'I love it.' } })).model?.version;
const refusals = async () =>
  Number(
    /emoverse_gateway_model_reloads_total\{[^}]*outcome="refused"[^}]*\} (\d+)/.exec(
      await running.ctx.telemetry.metrics.metrics(),
    )?.[1] ?? 0,
  );

describe('a published model is verified before it is served', () => {
  it('serves a version whose files match its published manifest', async () => {
    const checkpoint = await ModelRegistry.upload(bus, {
      dir: modelFolder('v2'),
      files: MODEL_FILES,
      bucket: blobBuckets.checkpoints,
      name: 'm-v2',
    });
    assert.match(checkpoint.digest, /^SHA-256=[A-Za-z0-9_-]{43}$/);
    await ModelRegistry.publish(bus, { modelId: 'emoverse-nano', version: 'v2', checkpoint });
    await eventually(async () => (await served()) === 'v2', 'the gateway to switch to v2');
  });

  it('refuses tampered versions while the old one keeps answering, and counts each refusal', async () => {
    // v3: a weights file replaced in the object store after publishing.
    const v3 = await ModelRegistry.upload(bus, {
      dir: modelFolder('v3'),
      files: MODEL_FILES,
      bucket: blobBuckets.checkpoints,
      name: 'm-v3',
    });
    await bus.blobs.put(
      blobBuckets.checkpoints,
      'm-v3/llm/model.safetensors',
      new TextEncoder().encode('evil'),
    );
    // v4: the weights and the manifest both rewritten (the registry's digest still names the old manifest).
    const v4 = await ModelRegistry.upload(bus, {
      dir: modelFolder('v4'),
      files: MODEL_FILES,
      bucket: blobBuckets.checkpoints,
      name: 'm-v4',
    });
    const forged = modelFolder('v4-forged');
    writeFileSync(join(forged, 'llm', 'model.safetensors'), 'evil');
    await ModelRegistry.upload(bus, {
      dir: forged,
      files: MODEL_FILES,
      bucket: blobBuckets.checkpoints,
      name: 'm-v4',
    });
    // v5: published without a digest.
    const v5 = await ModelRegistry.upload(bus, {
      dir: modelFolder('v5'),
      files: MODEL_FILES,
      bucket: blobBuckets.checkpoints,
      name: 'm-v5',
    });
    const cases = [
      { version: 'v3', checkpoint: v3 },
      { version: 'v4', checkpoint: v4 },
      { version: 'v5', checkpoint: { ...v5, digest: '' } },
    ];

    const failures: string[] = [];
    const answers = new Set<string>();
    let stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          answers.add((await served()) ?? '?');
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    for (const [i, c] of cases.entries()) {
      await ModelRegistry.publish(bus, { modelId: 'emoverse-nano', ...c });
      await eventually(async () => (await refusals()) === i + 1, `the refusal of ${c.version}`);
    }
    stop = true;
    await load;
    assert.deepEqual(failures, [], 'no request failed');
    assert.deepEqual([...answers], ['v2'], 'every answer came from v2');
    for (const v of ['v3', 'v4', 'v5'])
      assert.equal(existsSync(join(cache, 'models', v)), false, `nothing of ${v} is kept`);
    assert.equal(await served(), 'v2');
  });

  it('names the file that differs, or the manifest, in the error', async () => {
    const registry = new ModelRegistry(bus, {
      modelId: 'emoverse-nano',
      cacheDir: join(tmp, 'direct'),
      files: { model: MODEL_FILES, adapter: [] },
    });
    const p = (name: string, digest: string) =>
      create(ModelPublishedSchema, {
        modelId: 'emoverse-nano',
        version: name,
        checkpoint: { bucket: blobBuckets.checkpoints, name, digest },
      });
    const v3 = await bus.blobs.get({ bucket: blobBuckets.checkpoints, name: `m-v3/${digestManifestName}` });
    await assert.rejects(
      registry.fetchCheckpoint(p('m-v3', manifestDigest(v3))),
      /emoverse-checkpoints\/m-v3\/llm\/model\.safetensors has sha256 [0-9a-f]{64}, but the manifest says [0-9a-f]{64}/,
    );
    await assert.rejects(
      registry.fetchCheckpoint(p('m-v4', 'SHA-256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')),
      /emoverse-checkpoints\/m-v4\/sha256sums\.json has digest SHA-256=\S+, but SHA-256=A+ was published/,
    );
    await assert.rejects(registry.fetchCheckpoint(p('m-v5', '')), /m-v5: no digest was published/);
    assert.deepEqual(readdirSync(join(tmp, 'direct', 'models')), [], 'no refused folder is left behind');
  });

  it('still switches to a correct version published after the refusals', async () => {
    const checkpoint = await ModelRegistry.upload(bus, {
      dir: modelFolder('v6'),
      files: MODEL_FILES,
      bucket: blobBuckets.checkpoints,
      name: 'm-v6',
    });
    await ModelRegistry.publish(bus, { modelId: 'emoverse-nano', version: 'v6', checkpoint });
    await eventually(async () => (await served()) === 'v6', 'the gateway to switch to v6');
  });
});
