// The gateway's RPCs over real gRPC on loopback, with a deterministic keyword model in place of
// the language model (the integration tests in tests/ run the real emoverse-nano).
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { Task } from '@emoverse/proto';
import type { RunningService } from '@emoverse/service-kit';
import { KeywordModel } from '@emoverse/serving/testing';
import { checkHealth, type NatsServer, startNatsServer, waitForHealth } from '@emoverse/testing';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GatewayClient } from './client.js';
import { createGatewayService } from './service.js';
import { retryAfterMs } from './status.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const GIF = new TextEncoder().encode('GIF89a\x01\x00\x01\x00');

let nats: NatsServer;
before(async () => {
  nats = await startNatsServer();
});
after(() => nats.stop());

/** The gateway service in this process (real gRPC, real NATS), with the keyword model. */
async function serve(env: Record<string, string> = {}, delayMs = 5, gate?: Promise<void>) {
  const service = createGatewayService({
    startModel: async () => {
      await gate;
      return new KeywordModel('v1', delayMs);
    },
  });
  const running = await service.run({
    env: {
      ...nats.env('gateway'),
      EMOVERSE_GRPC_HOST: '127.0.0.1',
      EMOVERSE_GRPC_PORT: '0',
      EMOVERSE_LOG_LEVEL: 'warn',
      EMOVERSE_MAX_BATCH: '8',
      EMOVERSE_MAX_WAIT_MS: '2',
      EMOVERSE_MAX_IMAGE_BYTES: '1024',
      ...env,
    },
  });
  const address = `127.0.0.1:${running.port}`;
  if (!gate) await waitForHealth(address);
  const client = new GatewayClient(address, { token: env.EMOVERSE_AUTH_TOKEN });
  return {
    running,
    client,
    port: running.port,
    address,
    queueDepth: async () =>
      Number(/emoverse_gateway_queue_depth\{[^}]*\} (\d+)/.exec(await metricsText(running))?.[1]),
    close: async () => {
      client.close();
      await running.stop();
    },
  };
}

const metricsText = (r: RunningService) => r.ctx.telemetry.metrics.metrics();

function status(code: grpc.status, pattern?: RegExp) {
  return (e: unknown) => {
    const err = e as grpc.ServiceError;
    assert.equal(grpc.status[err.code], grpc.status[code], err.details);
    if (pattern) assert.match(err.details, pattern);
    return true;
  };
}

describe('gateway RPCs', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    s = await serve();
  });
  after(() => s.close());

  it('Emotion answers a valid label with probabilities, the raw answer and the model version', async () => {
    const r = await s.client.emotion({ input: { text: 'What a surprise!' } });
    assert.equal(r.label, 'surprise');
    assert.equal(r.rawText, 'Surprise.');
    assert.equal(r.probabilities.length, 7);
    assert.ok(Math.abs(r.probabilities.reduce((a, p) => a + p.probability, 0) - 1) < 1e-5);
    assert.deepEqual([r.model?.modelId, r.model?.version], ['emoverse-nano', 'nano-seed-0']);
    const m = await s.client.sentiment({ input: { text: 'so positive' } });
    assert.equal(m.label, 'positive');
  });

  it('FER, ERI and ECPE answer with their structured fields', async () => {
    const fer = await s.client.facialExpression({ input: { text: 'hm' } });
    assert.equal(fer.caption, 'v1 says hello');
    const eri = await s.client.emotionReason({ input: { text: 'I am full of joy' }, emotion: 'joy' });
    assert.equal(eri.emotion, 'joy');
    assert.equal(eri.rationale, 'Joy. v1 says hello');
    const inferred = await s.client.emotionReason({ input: { text: 'I am full of joy' } });
    assert.equal(inferred.emotion, 'joy', 'the emotion comes from ER when not given');
    const history = [
      { speaker: 'A', text: 'x', emotion: 'neutral' },
      { speaker: 'B', text: 'y', emotion: 'neutral' },
      { speaker: 'C', text: 'z', emotion: 'joy' },
    ];
    const one = await s.client.emotionCausePairs({ input: { history }, target: 3 });
    assert.equal(one.rawText, '3_joy,3;3_joy,1');
    assert.deepEqual(
      one.pairs.map((p) => [p.emotionUtterance, p.causeUtterance, p.emotion]),
      [
        [3, 3, 'joy'],
        [3, 1, 'joy'],
      ],
    );
    // No target: every non-neutral utterance; turns without emotion are labelled by ER first.
    const all = await s.client.emotionCausePairs({
      input: { history: [{ speaker: 'A', text: 'so much anger' }, ...history.slice(1)] },
    });
    assert.equal(all.rawText.split('\n').length, 2, 'two targets: the anger turn and the joy turn');
  });

  it('Generate streams pieces, then a last message with the finish reason and token counts', async () => {
    const msgs = await s.client.generate({ input: { text: 'Say hello' }, task: Task.UNSPECIFIED });
    assert.deepEqual(
      msgs.slice(0, -1).map((m) => m.text),
      ['v1', ' says', ' hello'],
    );
    assert.deepEqual(
      msgs.map((m) => m.index),
      [0, 1, 2, 3],
    );
    const last = msgs.at(-1)!;
    assert.equal(last.finishReason, 'stop');
    assert.equal(last.generatedTokens, 3);
    assert.equal(last.model?.version, 'nano-seed-0');
  });

  it('bad inputs get INVALID_ARGUMENT or NOT_FOUND with a clear message', async () => {
    await assert.rejects(
      s.client.emotion({ input: { text: '' } }),
      status(grpc.status.INVALID_ARGUMENT, /^text is empty$/),
    );
    await assert.rejects(
      s.client.emotion({ input: { text: 'hi', adapter: 'nope' } }),
      status(grpc.status.NOT_FOUND, /unknown adapter 'nope'/),
    );
    await assert.rejects(
      s.client.emotion({ input: { text: 'hi', media: { source: { case: 'image', value: GIF } } } }),
      status(grpc.status.INVALID_ARGUMENT, /GIF, an unsupported image format/),
    );
    const big = new Uint8Array(2048);
    big.set(PNG);
    await assert.rejects(
      s.client.emotion({ input: { text: 'hi', media: { source: { case: 'image', value: big } } } }),
      status(grpc.status.INVALID_ARGUMENT, /image is too large: 2048 bytes, the limit is 1024/),
    );
    await assert.rejects(
      s.client.emotion({ input: { text: 'hi', media: { source: { case: 'path', value: '/etc/passwd' } } } }),
      status(grpc.status.INVALID_ARGUMENT, /media.path is not accepted/),
    );
    await assert.rejects(
      s.client.emotionCausePairs({ input: {} }),
      status(grpc.status.INVALID_ARGUMENT, /conversation is empty/),
    );
    await assert.rejects(
      s.client.emotionCausePairs({ input: { text: 'a' }, target: 4 }),
      status(grpc.status.INVALID_ARGUMENT, /target 4 is beyond the 1-turn conversation/),
    );
    await assert.rejects(
      s.client.emotion({ input: { text: 'hi', media: { source: { case: 'image', value: PNG } } } }),
      status(grpc.status.UNAVAILABLE, /media processing/),
      'a valid image with no vision service configured',
    );
  });

  it('a request whose text is not valid UTF-8 gets INVALID_ARGUMENT, not INTERNAL', async () => {
    // EmotionRequest{input: TaskInput{text: 0x61 0xC3 0x28}} encoded by hand: no encoder writes bad UTF-8.
    const input = new BinaryWriter()
      .uint32(10)
      .bytes(Uint8Array.from([0x61, 0xc3, 0x28]))
      .finish();
    const request = new BinaryWriter().uint32(10).bytes(input).finish();
    const raw = new grpc.Client(`127.0.0.1:${s.port}`, grpc.credentials.createInsecure());
    try {
      await assert.rejects(
        new Promise((resolve, reject) =>
          raw.makeUnaryRequest(
            '/emoverse.v1.GatewayService/Emotion',
            (b: Buffer) => b,
            (b: Buffer) => b,
            Buffer.from(request),
            (e, r) => (e ? reject(e) : resolve(r)),
          ),
        ),
        status(grpc.status.INVALID_ARGUMENT, /not valid UTF-8/),
      );
    } finally {
      raw.close();
    }
  });

  it('exports latency, batch size and queue depth metrics', async () => {
    const text = await metricsText(s.running);
    const latency = (code: string) =>
      new RegExp(
        `emoverse_grpc_server_duration_seconds_count\\{[^}]*method="/emoverse.v1.GatewayService/Emotion",code="${code}"[^}]*\\} [1-9]`,
      );
    assert.match(text, latency('OK'));
    assert.match(text, latency('INVALID_ARGUMENT'));
    assert.match(text, /emoverse_gateway_batch_size_count\{[^}]*kind="score"[^}]*\} [1-9]/);
    assert.match(text, /emoverse_gateway_queue_depth\{[^}]*\} 0/);
    assert.match(text, /emoverse_gateway_model_info\{[^}]*version="nano-seed-0"[^}]*\} 1/);
  });
});

describe('gateway admission, deadlines, cancellation and auth', () => {
  it('answers RESOURCE_EXHAUSTED with retry info when the queue is full, and serves the rest', async () => {
    const s = await serve({ EMOVERSE_MAX_QUEUE: '2', EMOVERSE_MAX_BATCH: '1' }, 100);
    try {
      const all = await Promise.allSettled(
        Array.from({ length: 8 }, () => s.client.emotion({ input: { text: 'fear' } })),
      );
      const refused = all
        .filter((r) => r.status === 'rejected')
        .map((r) => (r as PromiseRejectedResult).reason);
      assert.ok(refused.length >= 1 && refused.length <= 5, `${refused.length} refused`);
      for (const e of refused) {
        status(grpc.status.RESOURCE_EXHAUSTED, /queue is full/)(e);
        assert.ok((retryAfterMs(e.metadata) ?? 0) > 0);
        assert.ok(e.metadata.get('grpc-status-details-bin').length === 1);
      }
      assert.ok(all.filter((r) => r.status === 'fulfilled').length >= 3);
    } finally {
      await s.close();
    }
  });

  it('honours deadlines and frees the slot of a cancelled request', async () => {
    const s = await serve({ EMOVERSE_MAX_QUEUE: '1', EMOVERSE_MAX_BATCH: '1' }, 150);
    try {
      await assert.rejects(
        s.client.emotion({ input: { text: 'joy' } }, { timeoutMs: 50 }),
        status(grpc.status.DEADLINE_EXCEEDED),
      );
      await new Promise((r) => setTimeout(r, 200));
      const running = s.client.emotion({ input: { text: 'joy' } });
      await new Promise((r) => setTimeout(r, 20));
      const ac = new AbortController();
      const queued = s.client.emotion({ input: { text: 'anger' } }, { signal: ac.signal });
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await s.queueDepth(), 1);
      ac.abort();
      await assert.rejects(queued, status(grpc.status.CANCELLED));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await s.queueDepth(), 0, 'the cancelled request left the queue');
      const next = await s.client.emotion({ input: { text: 'sadness' } });
      assert.equal(next.label, 'sadness');
      assert.equal((await running).label, 'joy');
    } finally {
      await s.close();
    }
  });

  it('requires the bearer token when one is configured', async () => {
    const s = await serve({ EMOVERSE_AUTH_TOKEN: 's3cret-token' });
    const anonymous = new GatewayClient(`127.0.0.1:${s.port}`);
    const wrong = new GatewayClient(`127.0.0.1:${s.port}`, { token: 'guess-guess' });
    try {
      assert.equal((await s.client.emotion({ input: { text: 'joy' } })).label, 'joy');
      await assert.rejects(
        anonymous.emotion({ input: { text: 'joy' } }),
        status(grpc.status.UNAUTHENTICATED),
      );
      await assert.rejects(
        wrong.emotion({ input: { text: 'joy' } }),
        status(grpc.status.UNAUTHENTICATED, /bearer token/),
      );
      await assert.rejects(anonymous.generate({ input: { text: 'x' } }), status(grpc.status.UNAUTHENTICATED));
    } finally {
      anonymous.close();
      wrong.close();
      await s.close();
    }
  });
});

describe('gateway readiness, reflection and TLS', () => {
  it('reports NOT_SERVING until a model is loaded, then SERVING', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const s = await serve({}, 5, gate);
    try {
      assert.equal(await checkHealth(s.address), 'NOT_SERVING');
      release();
      await waitForHealth(s.address, { timeoutMs: 10_000 });
      assert.equal(await checkHealth(s.address, 'emoverse.v1.GatewayService'), 'SERVING');
    } finally {
      await s.close();
    }
  });

  it('lists GatewayService through server reflection', async () => {
    const s = await serve();
    const require = createRequire(import.meta.url);
    const protoPath = join(
      require.resolve('@grpc/reflection'),
      '../../proto/grpc/reflection/v1/reflection.proto',
    );
    const pkg = grpc.loadPackageDefinition(
      protoLoader.loadSync(protoPath, { keepCase: true }),
    ) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    const client = new pkg.grpc.reflection.v1.ServerReflection(s.address, grpc.credentials.createInsecure());
    try {
      const names = await new Promise<string[]>((resolve, reject) => {
        const call = (
          client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, Reflected> }
        ).ServerReflectionInfo();
        call.on('data', (d: Reflected) => {
          resolve(d.list_services_response.service.map((x) => x.name));
          call.end();
        });
        call.on('error', reject);
        call.write({ list_services: '' });
      });
      assert.ok(names.includes('emoverse.v1.GatewayService'), names.join(','));
    } finally {
      client.close();
      await s.close();
    }
  });

  it('speaks TLS, and with a client CA refuses clients without a certificate (mTLS)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-tls-'));
    const ssl = (args: string) => execSync(`openssl ${args}`, { cwd: dir, stdio: 'pipe' });
    ssl('req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca');
    const sign = (name: string, ext: string) => {
      ssl(`req -newkey rsa:2048 -nodes -keyout ${name}.key -out ${name}.csr -subj /CN=${name}`);
      writeFileSync(join(dir, `${name}.ext`), ext);
      ssl(
        `x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out ${name}.pem -days 1 -extfile ${name}.ext`,
      );
    };
    sign('localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    sign('client', 'extendedKeyUsage=clientAuth\n');
    const file = (n: string) => readFileSync(join(dir, n));
    const s = await serve(
      {
        EMOVERSE_TLS_CERT: join(dir, 'localhost.pem'),
        EMOVERSE_TLS_KEY: join(dir, 'localhost.key'),
        EMOVERSE_TLS_CLIENT_CA: join(dir, 'ca.pem'),
      },
      5,
      Promise.resolve(),
    );
    const address = `localhost:${s.port}`;
    const withCert = new GatewayClient(address, {
      credentials: grpc.credentials.createSsl(file('ca.pem'), file('client.key'), file('client.pem')),
    });
    const withoutCert = new GatewayClient(address, {
      credentials: grpc.credentials.createSsl(file('ca.pem')),
    });
    const plain = new GatewayClient(address);
    try {
      await new Promise((r) => setTimeout(r, 300)); // the model loads
      assert.equal((await withCert.emotion({ input: { text: 'joy' } }, { timeoutMs: 10_000 })).label, 'joy');
      await assert.rejects(withoutCert.emotion({ input: { text: 'joy' } }, { timeoutMs: 5_000 }));
      await assert.rejects(plain.emotion({ input: { text: 'joy' } }, { timeoutMs: 5_000 }));
    } finally {
      withCert.close();
      withoutCert.close();
      plain.close();
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface Reflected {
  list_services_response: { service: { name: string }[] };
}
