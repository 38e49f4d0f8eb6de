// A service serving gRPC over TLS (EMOVERSE_TLS_CERT/KEY) keeps a plaintext health port for probes that report what the service reports and serve nothing else; bad TLS files stop start-up naming the variable.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FrameExtractorService } from '@emoverse/proto';
import {
  checkHealth,
  makeTestCertificates,
  type NatsServer,
  startNatsServer,
  type TestCertificates,
} from '@emoverse/testing';
import * as grpc from '@grpc/grpc-js';
import { createClient, defineService, status } from '../index.js';

let nats: NatsServer;
let certs: TestCertificates;
before(async () => {
  nats = await startNatsServer();
  certs = makeTestCertificates();
});
after(async () => {
  await nats.stop();
  certs.remove();
});

const toy = defineService({
  name: 'toy-tls',
  manualReadiness: true,
  start(ctx) {
    ctx.addService(FrameExtractorService, {
      async extract(req) {
        return { jobId: req.jobId };
      },
      async extractUpload() {
        return { jobId: '' };
      },
    });
  },
});

function env(tls: Record<string, string>): Record<string, string> {
  return {
    ...nats.env('operator'),
    EMOVERSE_GRPC_HOST: '127.0.0.1',
    EMOVERSE_GRPC_PORT: '0',
    EMOVERSE_TRACE_EXPORTER: 'none',
    EMOVERSE_LOG_LEVEL: 'silent',
    ...tls,
  };
}

test('the gRPC port speaks only TLS; the plaintext health port follows its health and serves no RPC', async () => {
  const running = await toy.run({
    env: env({
      EMOVERSE_TLS_CERT: certs.serverCert,
      EMOVERSE_TLS_KEY: certs.serverKey,
      EMOVERSE_HEALTH_PORT: '0',
    }),
  });
  const health = `127.0.0.1:${running.healthPort}`;
  const secure = createClient(FrameExtractorService, `localhost:${running.port}`, {
    credentials: grpc.credentials.createSsl(readFileSync(certs.ca)),
  });
  const plainOnHealthPort = createClient(FrameExtractorService, health);
  try {
    assert.ok(running.healthPort && running.healthPort !== running.port);
    assert.equal(await checkHealth(health), 'NOT_SERVING', 'not ready until the service says so');
    running.ctx.setServing(true);
    assert.equal(await checkHealth(health), 'SERVING');
    assert.equal(await checkHealth(health, 'emoverse.v1.FrameExtractorService'), 'SERVING');
    assert.equal((await secure.extract({ jobId: 'j1' }, { timeoutMs: 5_000 })).jobId, 'j1');
    // A plaintext client gets nothing from the TLS port, and no RPC but health from the health port.
    await assert.rejects(checkHealth(`127.0.0.1:${running.port}`));
    await assert.rejects(plainOnHealthPort.extract({ jobId: 'j2' }, { timeoutMs: 5_000 }), (e: Error) => {
      assert.equal((e as { code?: number }).code, status.UNIMPLEMENTED);
      return true;
    });
    running.ctx.setServing(false);
    assert.equal(await checkHealth(health), 'NOT_SERVING');
  } finally {
    secure.close();
    plainOnHealthPort.close();
    await running.stop();
  }
  await assert.rejects(checkHealth(health, '', 1_000), 'the health port closes with the service');
});

test('a missing, unreadable or mismatched TLS file, or a bad health port, stops start-up naming the variable', async () => {
  const notPem = join(certs.dir, 'not.pem');
  writeFileSync(notPem, 'not a certificate\n');
  const cases: Array<[Record<string, string>, RegExp]> = [
    [
      { EMOVERSE_TLS_CERT: join(certs.dir, 'missing.pem'), EMOVERSE_TLS_KEY: certs.serverKey },
      /EMOVERSE_TLS_CERT=".*missing\.pem": ENOENT/,
    ],
    [{ EMOVERSE_TLS_CERT: notPem, EMOVERSE_TLS_KEY: certs.serverKey }, /EMOVERSE_TLS_CERT=".*not\.pem": /],
    [{ EMOVERSE_TLS_CERT: certs.serverCert, EMOVERSE_TLS_KEY: notPem }, /EMOVERSE_TLS_KEY=".*not\.pem": /],
    [
      // A renewal that replaced one file of the pair and not the other.
      { EMOVERSE_TLS_CERT: certs.serverCert, EMOVERSE_TLS_KEY: certs.clientKey },
      /EMOVERSE_TLS_KEY=".*client\.key" is not the key of EMOVERSE_TLS_CERT's certificate/,
    ],
    [{ EMOVERSE_TLS_CERT: certs.serverCert }, /EMOVERSE_TLS_CERT and EMOVERSE_TLS_KEY must be set together/],
    [{ EMOVERSE_HEALTH_PORT: 'ninety' }, /EMOVERSE_HEALTH_PORT="ninety"/],
  ];
  for (const [tls, why] of cases) {
    await assert.rejects(toy.run({ env: env(tls) }), why, JSON.stringify(tls));
  }
});
