// Services connect to NATS with their own credentials and TLS from the environment, and a bad or missing one stops start-up naming the variable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { events } from '@emoverse/bus';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import { ConfigError, defineService, natsAuthFromEnv } from '../index.js';

let nats: NatsServer;
let mtls: NatsServer;
let dir: string;

/** A service named like the gateway identity that publishes what it is told to at start. */
const probe = (publish = false) =>
  defineService({
    name: 'gateway',
    async start(ctx) {
      if (publish) await ctx.bus.publish(events.modelPublished, { modelId: 'm', version: 'evil' });
    },
  });

const quiet = { EMOVERSE_GRPC_PORT: '0', EMOVERSE_GRPC_HOST: '127.0.0.1', EMOVERSE_LOG_LEVEL: 'silent' };

before(async () => {
  nats = await startNatsServer();
  mtls = await startNatsServer({ tls: 'mtls' });
  dir = mkdtempSync(join(tmpdir(), 'nats-auth-spec-'));
});
after(async () => {
  await nats.stop();
  await mtls.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a half-set, doubled or unreadable credential names its variable', () => {
  assert.throws(
    () => natsAuthFromEnv({ NATS_USER: 'gateway' }),
    (e: Error) => e instanceof ConfigError && /NATS_PASSWORD \(unset\)/.test(e.message),
  );
  assert.throws(() => natsAuthFromEnv({ NATS_PASSWORD: 'x' }), /NATS_USER \(unset\)/);
  assert.throws(
    () => natsAuthFromEnv({ NATS_USER: 'a', NATS_PASSWORD: 'b', NATS_TOKEN: 't' }),
    /one kind of NATS credential.*NATS_TOKEN/,
  );
  assert.throws(
    () => natsAuthFromEnv({ NATS_CREDS_FILE: join(dir, 'absent.creds') }),
    /NATS_CREDS_FILE=".*absent\.creds": ENOENT/,
  );
  writeFileSync(join(dir, 'bad.creds'), 'not a creds file');
  assert.throws(
    () => natsAuthFromEnv({ NATS_CREDS_FILE: join(dir, 'bad.creds') }),
    /NATS_CREDS_FILE=.*not a NATS creds file/,
  );
  writeFileSync(join(dir, 'bad.nk'), 'SUnotaseed');
  assert.throws(
    () => natsAuthFromEnv({ NATS_NKEY_SEED_FILE: join(dir, 'bad.nk') }),
    /NATS_NKEY_SEED_FILE=.*not an nkey user seed/,
  );
  assert.throws(() => natsAuthFromEnv({ NATS_TLS_CERT: 'c.pem' }), /NATS_TLS_CERT and NATS_TLS_KEY/);
  assert.throws(
    () => natsAuthFromEnv({ NATS_TLS_CA: join(dir, 'absent.pem') }),
    /NATS_TLS_CA=".*absent\.pem"/,
  );
  assert.deepEqual(natsAuthFromEnv({}), {});
});

test('a service starts with its own user and password', async () => {
  const running = await probe().run({ env: { ...nats.env('gateway'), ...quiet } });
  await running.stop();
});

test('a service without credentials is refused, naming the variables that carry them', async () => {
  await assert.rejects(
    probe().run({ env: { NATS_URL: nats.url, ...quiet } }),
    (e: Error) =>
      e instanceof ConfigError && /requires credentials: set NATS_USER \+ NATS_PASSWORD/.test(e.message),
  );
});

test('a wrong password is refused, naming NATS_USER/NATS_PASSWORD and the user', async () => {
  await assert.rejects(
    probe().run({ env: { ...nats.env('gateway'), NATS_PASSWORD: 'pwrong', ...quiet } }),
    /refused the credentials in NATS_USER\/NATS_PASSWORD \(user "gateway"\)/,
  );
});

test('the gateway user cannot publish model.published even from a running service', async () => {
  await assert.rejects(
    probe(true).run({ env: { ...nats.env('gateway'), ...quiet } }),
    /Permissions Violation for Publish to "emoverse\.model\.published"/,
  );
});

test('over mTLS a service connects with NATS_TLS_CA/CERT/KEY and is refused without its certificate', async () => {
  const env = mtls.env('gateway');
  assert.ok(env.NATS_TLS_CA && env.NATS_TLS_CERT && env.NATS_TLS_KEY);
  const running = await probe().run({ env: { ...env, ...quiet } });
  await running.stop();
  const { NATS_TLS_CERT: _c, NATS_TLS_KEY: _k, ...noClientCert } = env;
  await assert.rejects(probe().run({ env: { ...noClientCert, ...quiet } }), /NATS_URL=/);
  const { NATS_TLS_CA: _ca, ...noCa } = noClientCert;
  await assert.rejects(probe().run({ env: { ...noCa, ...quiet } }), /NATS_URL=/);
});
