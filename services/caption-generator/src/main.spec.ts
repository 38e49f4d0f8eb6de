// The service process: BuildRecords over real gRPC on loopback, with a real nats-server behind it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CaptionGeneratorService, Split, Task } from '@emoverse/proto';
import { createClient } from '@emoverse/service-kit';
import { type NatsServer, type ServiceProcess, startNatsServer, startService } from '@emoverse/testing';

let nats: NatsServer;
let svc: ServiceProcess;

before(async () => {
  nats = await startNatsServer();
  svc = await startService('caption-generator', {
    nats,
    env: { EMOVERSE_GRPC_HOST: '127.0.0.1' },
  });
});
after(async () => {
  const exit = await svc.stop('SIGTERM');
  await nats.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, svc.output());
});

test('BuildRecords answers records and drops; an unknown ERI backend is INVALID_ARGUMENT', async () => {
  const client = createClient(CaptionGeneratorService, svc.grpcAddress);
  try {
    const res = await client.buildRecords(
      {
        sources: [
          {
            id: 'meld/test/dia0_utt0',
            source: 'meld',
            split: Split.TEST,
            conversationId: 'meld/test/dia0',
            utteranceId: 'dia0_utt0',
            speaker: 'Mark',
            text: 'Why do all you’re coffee mugs have numbers on the bottom?',
            emotion: 'surprise',
            sentiment: 'positive',
            videoPaths: ['MELD/test/dia0_utt0.mp4'],
          },
          {
            id: 'meld/test/dia0_utt1',
            source: 'meld',
            split: Split.TEST,
            text: '',
            emotion: 'neutral',
            sentiment: 'neutral',
          },
        ],
        tasks: [Task.ER, Task.MSA],
      },
      { timeoutMs: 10_000 },
    );
    assert.deepEqual(
      res.records.map((r) => [r.id, r.response]),
      [
        ['msa/meld/test/dia0_utt0', 'Positive.'],
        ['er/meld/test/dia0_utt0', 'Surprise.'],
      ],
    );
    assert.deepEqual(res.dropCounts, { empty_text: 2 });
    await assert.rejects(
      client.buildRecords({ eriBackend: 'gpt-9' }, { timeoutMs: 10_000 }),
      (e: Error & { code?: number }) => {
        assert.equal(e.code, 3); // INVALID_ARGUMENT
        assert.match(e.message, /unknown ERI backend "gpt-9"/);
        return true;
      },
    );
  } finally {
    client.close();
  }
});
