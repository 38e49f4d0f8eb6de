import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { connect } from 'nats';
import { natsUsers, startNatsServer } from './nats-server.js';

test('starts a real JetStream nats-server, survives restart, and cleans up', async () => {
  const server = await startNatsServer();
  try {
    assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    const operator = { user: 'operator', pass: server.password('operator') };
    let nc = await connect({ servers: server.url, ...operator });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'probe', subjects: ['emoverse.probe.>'] });
    await nc.jetstream().publish('emoverse.probe.a', new TextEncoder().encode('x'));
    await nc.close();

    await server.restart();
    nc = await connect({ servers: server.url, ...operator });
    const info = await (await nc.jetstreamManager()).streams.info('probe');
    assert.equal(info.state.messages, 1, 'the JetStream store outlives a restart');
    await nc.close();
  } finally {
    await server.stop();
  }
  assert.equal(existsSync(server.storeDir), false);
});

test('by default the server runs the generated users: credentials are required', async () => {
  const server = await startNatsServer();
  try {
    assert.equal(server.auth, true);
    await assert.rejects(connect({ servers: server.url, timeout: 3_000 }), /authorization violation/i);
    assert.deepEqual(Object.keys(server.env('gateway')).sort(), ['NATS_PASSWORD', 'NATS_URL', 'NATS_USER']);
    assert.ok(natsUsers().has('gateway'));
    assert.throws(() => server.password('nobody'), /no NATS user "nobody"/);
    const nc = await connect({ servers: server.url, user: 'gateway', pass: server.password('gateway') });
    await nc.close();
  } finally {
    await server.stop();
  }
});

test('auth: false runs an open server; tls: "mtls" requires a client certificate', async () => {
  const open = await startNatsServer({ auth: false });
  try {
    await (await connect({ servers: open.url })).close();
    assert.deepEqual(open.env('gateway'), { NATS_URL: open.url });
  } finally {
    await open.stop();
  }
  const mtls = await startNatsServer({ tls: 'mtls' });
  try {
    const { servers, auth } = mtls.client('operator');
    await (await connect({ servers, user: auth.user, pass: auth.pass, tls: auth.tls })).close();
    await assert.rejects(
      connect({
        servers,
        user: auth.user,
        pass: auth.pass,
        tls: { caFile: auth.tls!.caFile },
        timeout: 3_000,
      }),
    );
  } finally {
    await mtls.stop();
  }
  assert.equal(existsSync(mtls.certificates!.dir), false, 'the private keys are removed');
});
