// Over a real nats-server: source records and AU scores in, EMT records out.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { type Bus, connectBus, events } from '@emoverse/bus';
import { facsCaptioner, offlineEri } from '@emoverse/emt';
import {
  AuScoredSchema,
  AuVectorSchema,
  auRecordToVector,
  type EmtRecord,
  PersonPeakSchema,
  SourceRecordSchema,
  Split,
  TimeSpanSchema,
} from '@emoverse/proto';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import { type RunningHandlers, startHandlers } from './handlers.js';

const shared = process.env.EMOVERSE_SHARED
  ? resolve(process.env.EMOVERSE_SHARED)
  : fileURLToPath(new URL('../../../../shared', import.meta.url));

let server: NatsServer;
let bus: Bus;
let running: RunningHandlers;
const received: EmtRecord[] = [];

before(async () => {
  server = await startNatsServer();
  bus = await connectBus({ ...server.client(), name: 'caption-generator-spec' });
  running = await startHandlers(
    bus,
    {
      captioner: facsCaptioner(resolve(shared, 'data/facs/au_emotion.json')),
      eri: { deterministic: offlineEri(0) },
      defaultEri: 'deterministic',
    },
    { auWaitMs: 10_000, concurrency: 8, seed: 0 },
  );
  await bus.consume(
    events.emtRecord,
    (r: EmtRecord) => {
      received.push(r);
    },
    { durable: 'spec-reader' },
  );
});

after(async () => {
  await running.stop();
  await bus.drain(); // stops every consumer (also the reader), then flushes and closes
  await server.stop();
});

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${what}`);
}

test('a source that arrives before its AU scores waits for them, then all its records are published', async () => {
  const span = create(TimeSpanSchema, { id: 'dia1_utt1' });
  await bus.publish(
    events.sourceRecord,
    create(SourceRecordSchema, {
      id: 'meld/dev/dia1_utt1',
      source: 'meld',
      split: Split.DEV,
      conversationId: 'meld/dev/dia1',
      utteranceId: 'dia1_utt1',
      speaker: 'Joey',
      text: 'You’re a genius!',
      emotion: 'joy',
      sentiment: 'positive',
      videoPaths: ['MELD/dev/dia1_utt1.mp4'],
      jobId: 'job-42',
      span,
    }),
  );
  await until(() => (running.join.pending === 1 ? true : undefined), 'waiting source');
  assert.equal(received.length, 0); // nothing before the scores
  await bus.publish(
    events.auScored,
    create(AuScoredSchema, {
      jobId: 'job-42',
      span,
      spanCount: 3,
      hasFace: true,
      peak: create(PersonPeakSchema, {
        aus: create(AuVectorSchema, { intensity: auRecordToVector({ AU06: 2, AU12: 3 }) }),
      }),
    }),
  );
  await until(() => (received.length >= 4 ? true : undefined), 'four records');
  const byTask = new Map(received.map((r) => [r.id.split('/')[0], r]));
  assert.deepEqual([...byTask.keys()].sort(), ['er', 'eri', 'fer', 'msa']);
  assert.equal(byTask.get('fer')!.response, 'lip corners pulled up, cheeks raised');
  assert.equal(byTask.get('er')!.response, 'Joy.');
});

test('a text-only source (no video job) is built at once, without FER', async () => {
  received.length = 0;
  await bus.publish(
    events.sourceRecord,
    create(SourceRecordSchema, {
      id: 'mosei/train/vid_1',
      source: 'mosei',
      split: Split.TRAIN,
      conversationId: 'mosei/vid',
      text: 'great movie',
      sentiment: 'positive',
      sentimentScore: 2.4,
    }),
  );
  const r = await until(() => received.find((x) => x.sourceId === 'mosei/train/vid_1'), 'MOSEI record');
  assert.equal(r.response, 'Positive, score 2.40.');
});
