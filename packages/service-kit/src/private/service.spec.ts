// defineService end to end: health, the four call kinds, traces, reflection, graceful stop, bad config.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FrameExtractorService, GatewayService } from '@emoverse/proto';
import { checkHealth, type NatsServer, startNatsServer } from '@emoverse/testing';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createClient, defineService, GrpcError, type RunningService, status, z } from '../index.js';

let nats: NatsServer;
let running: RunningService;
let generatorClosed = false;
let releaseSlow!: () => void;
const slowGate = new Promise<void>((r) => {
  releaseSlow = r;
});

const toy = defineService({
  name: 'toy',
  config: { TOY_GREETING: z.string().default('hello') },
  start(ctx) {
    ctx.addService(GatewayService, {
      async sentiment(req) {
        if (req.input?.text === '') throw new GrpcError(status.INVALID_ARGUMENT, 'input.text is empty');
        return { label: 'positive', rawText: `${ctx.config.TOY_GREETING} ${req.input?.text}` };
      },
      async emotion(req) {
        if (req.input?.text === 'slow') await slowGate;
        return { label: 'joy', probabilities: [{ label: 'joy', probability: 0.9 }] };
      },
      async facialExpression() {
        throw new Error('boom');
      },
      async emotionReason() {
        return { rationale: 'because' };
      },
      async emotionCausePairs() {
        return { pairs: [{ emotionUtterance: 2, causeUtterance: 1, emotion: 'joy' }] };
      },
      async *generate(req, call) {
        try {
          for (let i = 0; i < 1000 && !call.signal.aborted; i++) {
            yield { text: `${req.input?.text}${i}`, index: i };
            await new Promise((r) => setTimeout(r, 5));
          }
        } finally {
          generatorClosed = true;
        }
      },
      async analyze(req) {
        return { analysis: { target: req.input?.target } };
      },
      async *analyzeStream(req) {
        yield { part: 'done', analysis: { target: req.input?.target } };
      },
    });
    ctx.addService(FrameExtractorService, {
      async extract(req) {
        return { jobId: req.jobId };
      },
      async extractUpload(parts) {
        let jobId = '';
        let bytes = 0;
        for await (const p of parts) {
          if (p.part.case === 'header') jobId = p.part.value.jobId;
          else if (p.part.case === 'chunk') bytes += p.part.value.length;
        }
        return { jobId: `${jobId}:${bytes}` };
      },
    });
  },
});

before(async () => {
  nats = await startNatsServer();
  running = await toy.run({
    env: {
      ...nats.env('operator'),
      EMOVERSE_GRPC_PORT: '0',
      EMOVERSE_GRPC_HOST: '127.0.0.1',
      EMOVERSE_TRACE_EXPORTER: 'memory',
      EMOVERSE_LOG_LEVEL: 'silent',
    },
  });
});
after(async () => {
  await running.stop();
  await nats.stop();
});

const address = () => `127.0.0.1:${running.port}`;

test('answers grpc.health.v1 for the server and each service', async () => {
  assert.equal(await checkHealth(address()), 'SERVING');
  assert.equal(await checkHealth(address(), 'emoverse.v1.GatewayService'), 'SERVING');
  await assert.rejects(checkHealth(address(), 'nope.Service'), /NOT_FOUND/);
});

test('unary calls, errors as gRPC statuses, and config reaching handlers', async () => {
  const client = createClient(GatewayService, address());
  try {
    const res = await client.sentiment({ input: { text: 'great' } });
    assert.equal(res.label, 'positive');
    assert.equal(res.rawText, 'hello great');
    await assert.rejects(client.sentiment({ input: { text: '' } }), (err: grpc.ServiceError) => {
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.equal(err.details, 'input.text is empty');
      return true;
    });
    await assert.rejects(
      client.facialExpression({}),
      (err: grpc.ServiceError) => err.code === status.INTERNAL && err.details === 'boom',
    );
    const pairs = await client.emotionCausePairs({});
    assert.deepEqual(
      pairs.pairs.map((p) => [p.emotionUtterance, p.causeUtterance]),
      [[2, 1]],
    );
  } finally {
    client.close();
  }
});

test('server streaming, and an early break cancels the server generator', async () => {
  const client = createClient(GatewayService, address());
  try {
    const got: string[] = [];
    for await (const t of client.generate({ input: { text: 't' } })) {
      got.push(t.text);
      if (got.length === 3) break;
    }
    assert.deepEqual(got, ['t0', 't1', 't2']);
    for (let i = 0; i < 100 && !generatorClosed; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(generatorClosed, true, 'the generator ran its finally block after the client left');
  } finally {
    client.close();
  }
});

test('client streaming upload', async () => {
  const client = createClient(FrameExtractorService, address());
  try {
    async function* parts() {
      yield { part: { case: 'header' as const, value: { jobId: 'up' } } };
      for (let i = 0; i < 5; i++) yield { part: { case: 'chunk' as const, value: new Uint8Array(10_000) } };
    }
    const res = await client.extractUpload(parts());
    assert.equal(res.jobId, 'up:50000');
  } finally {
    client.close();
  }
});

test('a client call and its server handler are one trace', async () => {
  const memory = running.ctx.telemetry.memory!;
  memory.reset();
  const client = createClient(GatewayService, address());
  try {
    await client.emotionReason({ input: { text: 'x' } });
  } finally {
    client.close();
  }
  const spans = memory.getFinishedSpans();
  const clientSpan = spans.find((s) => s.name === 'grpc.client /emoverse.v1.GatewayService/EmotionReason')!;
  const serverSpan = spans.find((s) => s.name === 'grpc.server /emoverse.v1.GatewayService/EmotionReason')!;
  assert.ok(clientSpan && serverSpan);
  assert.equal(serverSpan.spanContext().traceId, clientSpan.spanContext().traceId);
  assert.equal(serverSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId);
});

test('server reflection lists the services and serves their descriptors', async () => {
  const require = createRequire(import.meta.url);
  const protoPath = join(
    require.resolve('@grpc/reflection'),
    '../../proto/grpc/reflection/v1/reflection.proto',
  );
  const def = protoLoader.loadSync(protoPath, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(address(), grpc.credentials.createInsecure());
  // The two answers of grpc.reflection.v1 read here (keepCase: the proto's own field names).
  type Reply = {
    list_services_response?: { service: { name: string }[] };
    file_descriptor_response?: { file_descriptor_proto: Uint8Array[] };
  };
  const stub = client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, Reply> };
  const ask = (req: object) =>
    new Promise<Reply>((resolve, reject) => {
      const call = stub.ServerReflectionInfo();
      call.on('data', (d: Reply) => {
        resolve(d);
        call.end();
      });
      call.on('error', reject);
      call.write(req);
    });
  try {
    const list = await ask({ list_services: '' });
    const names = list.list_services_response!.service.map((s) => s.name);
    assert.ok(names.includes('emoverse.v1.GatewayService'));
    assert.ok(names.includes('emoverse.v1.FrameExtractorService'));
    const files = await ask({ file_containing_symbol: 'emoverse.v1.GatewayService' });
    assert.ok(files.file_descriptor_response!.file_descriptor_proto.length >= 1);
  } finally {
    client.close();
  }
});

test('stop() lets an in-flight call finish, then the server is gone', async () => {
  const own = await toy.run({
    env: {
      ...nats.env('operator'),
      EMOVERSE_GRPC_PORT: '0',
      EMOVERSE_GRPC_HOST: '127.0.0.1',
      EMOVERSE_LOG_LEVEL: 'silent',
      EMOVERSE_TRACE_EXPORTER: 'memory',
    },
  });
  const client = createClient(GatewayService, `127.0.0.1:${own.port}`);
  const inflight = client.emotion({ input: { text: 'slow' } });
  await new Promise((r) => setTimeout(r, 100));
  const stopped = own.stop();
  setTimeout(releaseSlow, 100);
  assert.equal((await inflight).label, 'joy');
  await stopped;
  await assert.rejects(
    client.emotion({ input: { text: 'x' } }, { timeoutMs: 1000 }),
    (e: grpc.ServiceError) => [status.UNAVAILABLE, status.DEADLINE_EXCEEDED].includes(e.code),
  );
  client.close();
});

test('a bad variable stops start-up with its name; an unreachable NATS names NATS_URL', async () => {
  await assert.rejects(
    toy.run({ env: { ...nats.env('operator'), EMOVERSE_GRPC_PORT: 'abc' } }),
    /EMOVERSE_GRPC_PORT="abc"/,
  );
  await assert.rejects(
    toy.run({
      env: { NATS_URL: 'nats://127.0.0.1:1', EMOVERSE_GRPC_PORT: '0', EMOVERSE_LOG_LEVEL: 'silent' },
    }),
    /cannot connect to NATS_URL="nats:\/\/127.0.0.1:1"/,
  );
});
