// Two gateway replicas as separate processes on a real nats-server, serving emoverse-nano:
// a new version published during a bounded load run is hot-reloaded by both with zero failed
// requests; an adapter published on the bus is served by name; bad inputs get clear statuses.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { adamw } from '@emoverse/autograd';
import { type Bus, blobBuckets, connectBus, ModelRegistry } from '@emoverse/bus';
import { ADAPTER_FILES, MODEL_FILES } from '@emoverse/models';
import { EMOTION_LABELS, emotionPrompt, loadBase } from '@emoverse/serving';
import {
  type NatsServer,
  type ServiceProcess,
  sharedDir,
  startNatsServer,
  startService,
} from '@emoverse/testing';
import * as grpc from '@grpc/grpc-js';
import { GatewayClient } from '../client.js';

const corpus = join(sharedDir(), 'data/m2se_format/meld_dev_er_sample.json');
const texts = ['Oh my God!', 'What?', 'I love it.', 'Get out of here.', 'Fine, whatever.', 'No way!'];
const tmp = mkdtempSync(join(tmpdir(), 'gateway-replicas-'));

let nats: NatsServer;
let bus: Bus;
const replicas: ServiceProcess[] = [];
const clients: GatewayClient[] = [];

before(async () => {
  nats = await startNatsServer();
  bus = await connectBus({ ...nats.client(), name: 'replicas-test' });
  for (let i = 0; i < 2; i++) {
    replicas.push(
      await startService('gateway', {
        timeoutMs: 120_000,
        nats,
        env: {
          EMOVERSE_LOG_LEVEL: 'warn',
          EMOVERSE_MODEL_SEED: '1',
          EMOVERSE_NANO_CORPUS: corpus,
          EMOVERSE_MODEL_CACHE: join(tmp, `replica-${i}`),
          EMOVERSE_MAX_BATCH: '8',
          EMOVERSE_MAX_WAIT_MS: '5',
          EMOVERSE_MAX_IMAGE_BYTES: '4096',
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
  await nats?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function code(e: unknown): string {
  return grpc.status[(e as grpc.ServiceError).code];
}

describe('gateway replicas', () => {
  it('hot-reloads a newly published model under load with zero failed requests', async () => {
    // v2: another nano (other seed), saved as the trainer saves it and uploaded to the object store.
    const v2 = loadBase({ nano: { seed: 2, corpusFiles: [corpus] } });
    v2.save(join(tmp, 'v2'));
    await v2.release();
    const checkpoint = await ModelRegistry.upload(bus, {
      dir: join(tmp, 'v2'),
      files: MODEL_FILES,
      bucket: blobBuckets.checkpoints,
      name: 'nano-v2',
    });

    const versions = clients.map(() => new Set<string>());
    const failures: string[] = [];
    let sent = 0;
    let published = false;
    let switchedAt = -1;
    const maxRequests = 600;
    const worker = async (w: number) => {
      // Each client keeps going until both replicas answered with v2 a few times, within the bound.
      while (sent < maxRequests && !(switchedAt >= 0 && sent > switchedAt + 40)) {
        const n = sent++;
        const replica = n % clients.length;
        if (n === 30 && !published) {
          published = true;
          await ModelRegistry.publish(bus, { modelId: 'emoverse-nano', version: 'v2', checkpoint });
        }
        try {
          const r = await clients[replica].emotion(
            { input: { text: texts[(n + w) % texts.length] } },
            { timeoutMs: 30_000 },
          );
          assert.ok((EMOTION_LABELS as readonly string[]).includes(r.label));
          versions[replica].add(r.model!.version);
          if (switchedAt < 0 && versions.every((v) => v.has('v2'))) switchedAt = sent;
        } catch (e) {
          failures.push(`${code(e)}: ${(e as grpc.ServiceError).details}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    assert.deepEqual(failures, [], 'no request failed during the reload');
    assert.ok(switchedAt >= 0, `both replicas switched to v2 within ${maxRequests} requests`);
    for (const v of versions) assert.deepEqual([...v].sort(), ['nano-seed-1', 'v2']);
    // After the switch, every answer comes from v2.
    for (const c of clients) assert.equal((await c.emotion({ input: { text: 'Hi.' } })).model?.version, 'v2');
  });

  it('starts a later replica on the version the registry records', async () => {
    const late = await startService('gateway', {
      timeoutMs: 120_000,
      nats,
      env: {
        EMOVERSE_LOG_LEVEL: 'warn',
        EMOVERSE_MODEL_SEED: '1',
        EMOVERSE_NANO_CORPUS: corpus,
        EMOVERSE_MODEL_CACHE: join(tmp, 'replica-late'),
      },
    });
    const client = new GatewayClient(late.grpcAddress);
    try {
      assert.equal((await client.emotion({ input: { text: 'Hi.' } })).model?.version, 'v2');
      // Generate streams the answer over gRPC, then a last message with the counts.
      const msgs = await client.generate({ input: { text: 'Say something.', options: { maxNewTokens: 8 } } });
      const last = msgs.at(-1)!;
      assert.ok(['stop', 'length'].includes(last.finishReason));
      assert.ok(last.generatedTokens >= 1 && last.generatedTokens <= 8 && last.promptTokens > 0);
      assert.equal(last.model?.version, 'v2');
      assert.deepEqual(
        msgs.map((m) => m.index),
        msgs.map((_, i) => i),
      );
    } finally {
      client.close();
      await late.stop();
    }
  });

  it('serves a LoRA adapter published on the bus, by name, on every replica', async () => {
    const base = loadBase({ nano: { seed: 2, corpusFiles: [corpus] } }); // the base now served (v2)
    const trainer = await base.trainer({
      lora: { r: 8, alpha: 32 },
      optimizer: adamw({ lr: 5e-2, weightDecay: 0 }),
    });
    await trainer.step(base.trainBatch([{ prompt: emotionPrompt('Oh my God!'), answer: 'Joy.' }]));
    await trainer.savePeft(join(tmp, 'fer-lora'));
    await trainer.release();
    await base.release();
    const adapter = await ModelRegistry.upload(bus, {
      dir: join(tmp, 'fer-lora'),
      files: ADAPTER_FILES,
      bucket: blobBuckets.adapters,
      name: 'fer-lora-1',
    });
    await ModelRegistry.publish(bus, {
      modelId: 'emoverse-nano',
      version: 'fer-1',
      adapterName: 'fer-lora',
      adapter,
    });
    for (const c of clients) {
      let answered = false;
      for (let attempt = 0; attempt < 50 && !answered; attempt++) {
        try {
          const r = await c.emotion({ input: { text: 'Oh my God!', adapter: 'fer-lora' } });
          assert.equal(r.model?.adapter, 'fer-lora');
          answered = true;
        } catch (e) {
          assert.equal(code(e), 'NOT_FOUND', 'until the adapter is fetched it is unknown');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.ok(answered, 'the adapter became available');
    }
  });

  it('answers bad inputs with INVALID_ARGUMENT or NOT_FOUND and a clear message', async () => {
    const c = clients[0];
    const expect = async (p: Promise<unknown>, want: string, message: RegExp) => {
      await assert.rejects(p, (e: unknown) => {
        assert.equal(code(e), want);
        assert.match((e as grpc.ServiceError).details, message);
        return true;
      });
    };
    await expect(c.emotion({ input: { text: '   ' } }), 'INVALID_ARGUMENT', /text is empty/);
    await expect(
      c.emotion({ input: { text: 'hi', adapter: 'nope' } }),
      'NOT_FOUND',
      /unknown adapter 'nope'/,
    );
    const gif = new TextEncoder().encode('GIF89a\x01\x00\x01\x00');
    await expect(
      c.emotion({ input: { text: 'hi', media: { source: { case: 'image', value: gif } } } }),
      'INVALID_ARGUMENT',
      /GIF, an unsupported image format/,
    );
    const big = new Uint8Array(8192);
    big.set([0xff, 0xd8, 0xff, 0xe0]);
    await expect(
      c.emotion({ input: { text: 'hi', media: { source: { case: 'image', value: big } } } }),
      'INVALID_ARGUMENT',
      /image is too large: 8192 bytes, the limit is 4096/,
    );
    // Invalid UTF-8 can only be sent by hand: EmotionRequest{input{text: 61 C3 28}}.
    const input = new BinaryWriter()
      .uint32(10)
      .bytes(Uint8Array.from([0x61, 0xc3, 0x28]))
      .finish();
    const raw = new grpc.Client(replicas[0].grpcAddress, grpc.credentials.createInsecure());
    try {
      await expect(
        new Promise((resolve, reject) =>
          raw.makeUnaryRequest(
            '/emoverse.v1.GatewayService/Emotion',
            (b: Buffer) => b,
            (b: Buffer) => b,
            Buffer.from(new BinaryWriter().uint32(10).bytes(input).finish()),
            (e, r) => (e ? reject(e) : resolve(r)),
          ),
        ),
        'INVALID_ARGUMENT',
        /not valid UTF-8/,
      );
    } finally {
      raw.close();
    }
  });
});
