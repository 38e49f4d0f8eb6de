import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { connect } from 'nats';
import { startNatsServer } from './nats-server.js';

test('starts a real JetStream nats-server, survives restart, and cleans up', async () => {
  const server = await startNatsServer();
  try {
    assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    let nc = await connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'probe', subjects: ['probe.>'] });
    await nc.jetstream().publish('probe.a', new TextEncoder().encode('x'));
    await nc.close();

    await server.restart();
    nc = await connect({ servers: server.url });
    const info = await (await nc.jetstreamManager()).streams.info('probe');
    assert.equal(info.state.messages, 1, 'the JetStream store outlives a restart');
    await nc.close();
  } finally {
    await server.stop();
  }
  assert.equal(existsSync(server.storeDir), false);
});
