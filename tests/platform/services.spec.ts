// All five services start the same way: they answer gRPC health, refuse bad config naming the
// variable, and shut down cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  checkHealth,
  type NatsServer,
  type ServiceProcess,
  startNatsServer,
  startService,
} from '@emoverse/testing';

const SERVICES: Array<[string, string]> = [
  ['frame-extractor', 'emoverse.v1.FrameExtractorService'],
  ['au-scorer', 'emoverse.v1.AuScorerService'],
  ['caption-generator', 'emoverse.v1.CaptionGeneratorService'],
  ['trainer', 'emoverse.v1.TrainerService'],
  ['gateway', 'emoverse.v1.GatewayService'],
];

let nats: NatsServer;

before(async () => {
  nats = await startNatsServer();
});
after(async () => {
  await nats.stop();
});

test('all five services answer gRPC health and stop cleanly on SIGTERM', async () => {
  const running: ServiceProcess[] = [];
  try {
    for (const [name] of SERVICES) {
      running.push(await startService(name, { nats, env: { EMOVERSE_GRPC_HOST: '127.0.0.1' } }));
    }
    for (const [i, [name, grpcService]] of SERVICES.entries()) {
      assert.equal(await checkHealth(running[i].grpcAddress), 'SERVING', name);
      assert.equal(
        await checkHealth(running[i].grpcAddress, grpcService),
        'SERVING',
        `${name} ${grpcService}`,
      );
    }
  } finally {
    const exits = await Promise.all(running.map((s) => s.stop('SIGTERM')));
    for (const [i, exit] of exits.entries()) {
      assert.deepEqual(
        exit,
        { code: 0, signal: null },
        `${running[i].name} exits 0 after SIGTERM:\n${running[i].output()}`,
      );
    }
  }
});

test('bad config stops start-up with a message naming the variable', async () => {
  const bad = await startService('gateway', {
    nats,
    env: { EMOVERSE_GRPC_PORT: 'not-a-port' },
    waitForHealth: false,
  });
  const exit = await bad.exited;
  assert.equal(exit.code, 1);
  assert.match(
    bad.output(),
    /gateway failed to start: invalid configuration for gateway:\n\s+EMOVERSE_GRPC_PORT="not-a-port"/,
  );

  const noNats = await startService('au-scorer', {
    env: { NATS_URL: 'nats://127.0.0.1:1' },
    waitForHealth: false,
  });
  assert.equal((await noNats.exited).code, 1);
  assert.match(noNats.output(), /cannot connect to NATS_URL="nats:\/\/127\.0\.0\.1:1"/);
});
