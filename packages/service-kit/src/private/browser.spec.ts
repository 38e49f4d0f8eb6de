// Browser access on one port: HTTP/2 to grpc-js, HTTP/1.1 to Connect / gRPC-web, CORS only for listed origins, a fallback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { FrameExtractorService } from '@emoverse/proto';
import { createRegistry, Histogram } from '@emoverse/telemetry';
import { checkHealth } from '@emoverse/testing';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { browserHandler, listenShared, type SharedListener } from './browser.js';
import { GrpcError } from './errors.js';
import type { CallContext } from './server-handlers.js';

const seen: CallContext[] = [];
const impl = {
  async extract(req: { jobId: string }, ctx: CallContext) {
    seen.push(ctx);
    if (req.jobId === 'bad') throw new GrpcError(grpc.status.FAILED_PRECONDITION, 'not this job');
    return { jobId: `got ${req.jobId}` };
  },
  extractUpload: async () => ({}),
};

let server: grpc.Server;
let listener: SharedListener;
let base: string;
const registry = createRegistry('browser-spec', false);
const duration = new Histogram({
  name: 'd',
  help: 'd',
  labelNames: ['method', 'code'],
  registers: [registry],
});

before(async () => {
  server = new grpc.Server();
  new HealthImplementation({ '': 'SERVING' }).addToServer(server);
  const handler = browserHandler([{ service: FrameExtractorService, impl }], duration, {
    corsOrigins: ['http://page.example'],
    fallback: (req, res) => {
      if (req.url !== '/hello') return false;
      res.end('hello page');
      return true;
    },
  });
  listener = await listenShared('127.0.0.1', 0, server, handler);
  base = `http://127.0.0.1:${listener.port}`;
});
after(async () => {
  await listener.close();
  server.forceShutdown();
});

describe('one port for gRPC, Connect, gRPC-web and pages', () => {
  it('HTTP/2 (gRPC health) reaches grpc-js; Connect and gRPC-web reach the same handler with the headers as metadata', async () => {
    assert.equal(await checkHealth(`127.0.0.1:${listener.port}`), 'SERVING');
    for (const transport of [
      createConnectTransport({ baseUrl: base, httpVersion: '1.1' }),
      createGrpcWebTransport({ baseUrl: base, httpVersion: '1.1' }),
    ]) {
      const client = createClient(FrameExtractorService, transport);
      const res = await client.extract({ jobId: 'j1' }, { headers: { authorization: 'Bearer x' } });
      assert.equal(res.jobId, 'got j1');
      assert.equal(seen.at(-1)?.metadata.get('authorization')[0], 'Bearer x');
      await assert.rejects(client.extract({ jobId: 'bad' }), (e) => {
        const c = ConnectError.from(e);
        return c.code === Code.FailedPrecondition && c.rawMessage === 'not this job';
      });
    }
    const metrics = await registry.metrics();
    assert.match(metrics, /code="FAILED_PRECONDITION"/);
    assert.match(metrics, /method="\/emoverse.v1.FrameExtractorService\/Extract"/);
  });

  it('answers CORS preflights for listed origins only', async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/emoverse.v1.FrameExtractorService/Extract`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const ok = await preflight('http://page.example');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://page.example');
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const other = await preflight('http://elsewhere.example');
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('other HTTP requests go to the fallback, else 404', async () => {
    assert.equal(await (await fetch(`${base}/hello`)).text(), 'hello page');
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
  });
});
