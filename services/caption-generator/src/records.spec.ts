import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { facsCaptioner, offlineEri } from '@emoverse/emt';
import {
  AuScoredSchema,
  AuVectorSchema,
  auRecordToVector,
  ConversationTurnSchema,
  EmotionCausePairSchema,
  PersonPeakSchema,
  SourceRecordSchema,
  Split,
  Task,
  TimeSpanSchema,
} from '@emoverse/proto';
import { buildRecords } from './records.js';

const shared = process.env.EMOVERSE_SHARED
  ? resolve(process.env.EMOVERSE_SHARED)
  : fileURLToPath(new URL('../../../../shared', import.meta.url));
const deps = () => ({
  captioner: facsCaptioner(resolve(shared, 'data/facs/au_emotion.json')),
  eri: { deterministic: offlineEri(0) },
  defaultEri: 'deterministic',
});

const meld = (id: string, extra: Record<string, unknown> = {}) =>
  create(SourceRecordSchema, {
    id: `meld/dev/${id}`,
    source: 'meld',
    split: Split.DEV,
    conversationId: 'meld/dev/dia1',
    utteranceId: id,
    speaker: 'Joey',
    text: 'You’re a genius!',
    emotion: 'joy',
    sentiment: 'positive',
    videoPaths: [`MELD/dev/${id}.mp4`],
    jobId: 'job-1',
    span: create(TimeSpanSchema, { id }),
    ...extra,
  });

const scored = (spanId: string, aus: Record<string, number> | null) =>
  create(AuScoredSchema, {
    jobId: 'job-1',
    span: create(TimeSpanSchema, { id: spanId }),
    spanCount: 2,
    hasFace: aus !== null,
    ...(aus
      ? {
          peak: create(PersonPeakSchema, {
            aus: create(AuVectorSchema, { intensity: auRecordToVector(aus) }),
          }),
        }
      : {}),
  });

test('source records + AU scores -> five-task EMT records, FER from the joined peak frame', async () => {
  const sources = [
    meld('dia1_utt1', {
      conversation: [
        create(ConversationTurnSchema, { speaker: 'Chandler', text: 'We could go to the bank.' }),
        create(ConversationTurnSchema, { speaker: 'Joey', text: 'You’re a genius!' }),
      ],
    }),
    meld('dia1_utt2', { text: 'Aww, man.', emotion: 'sadness', sentiment: 'negative' }),
  ];
  const auScores = [scored('dia1_utt1', { AU06: 1.9, AU12: 2.7, AU04: 1.5 }), scored('dia1_utt2', null)];
  const res = await buildRecords({ sources, auScores, tasks: [], eriBackend: '', seed: 0 }, deps());
  const byId = new Map(res.records.map((r) => [r.id, r]));
  const fer = byId.get('fer/meld/dev/dia1_utt1')!;
  assert.equal(fer.task, Task.FER);
  assert.equal(fer.response, 'lip corners pulled up, cheeks raised'); // AU12, AU06: measured and in the happy list
  assert.equal(fer.meta.aus, 'AU12,AU06');
  assert.equal(byId.get('er/meld/dev/dia1_utt1')!.response, 'Joy.');
  assert.equal(byId.get('msa/meld/dev/dia1_utt2')!.response, 'Negative.');
  const eri = byId.get('eri/meld/dev/dia1_utt1')!;
  assert.match(eri.query, /^Conversation so far:\nChandler: We could go to the bank\.\nJoey says/);
  assert.match(eri.response, /^Joy\. .*lip corners pulled up, cheeks raised/);
  assert.equal(byId.has('fer/meld/dev/dia1_utt2'), false);
  assert.deepEqual(res.dropCounts, { no_face: 1 });
  assert.equal(res.dropped[0].sourceId, 'meld/dev/dia1_utt2');
});

test('an ECF source record with its conversation and pairs -> the ECPE record of its target', async () => {
  const turns = [
    ['Monica', 'neutral', 'Alright . Phoebe ?'],
    ['Phoebe', 'neutral', 'Okay , okay .'],
    ['Phoebe', 'joy', 'If I were omnipotent for a day , I would want world peace !'],
  ].map(([speaker, emotion, text]) => create(ConversationTurnSchema, { speaker, emotion, text }));
  const src = create(SourceRecordSchema, {
    id: 'ecf1/conv18/utt3',
    source: 'ecf1',
    split: Split.DEV,
    conversationId: 'ecf1/conv18',
    utteranceId: '3',
    speaker: 'Phoebe',
    text: turns[2].text,
    emotion: 'joy',
    conversation: turns,
    pairs: [create(EmotionCausePairSchema, { emotionUtterance: 3, causeUtterance: 3, emotion: 'joy' })],
    videoPaths: ['ECF/dev/dia18utt3.mp4'],
  });
  const res = await buildRecords(
    { sources: [src], auScores: [], tasks: [Task.ECPE], eriBackend: '', seed: 0 },
    deps(),
  );
  assert.equal(res.records.length, 1);
  const r = res.records[0];
  assert.equal(r.response, '3_joy,3');
  assert.match(
    r.query,
    /Candidate utterances:1_neutral\. Monica: Alright \. Phoebe \?\n2_neutral\. Phoebe: Okay , okay \.\nTarget utterance:3_joy\. Phoebe/,
  );
  assert.deepEqual(r.videos, ['ECF/dev/dia18utt3.mp4']);
});

test('unreadable sources and unknown ERI backends are reported, not guessed', async () => {
  const bad = create(SourceRecordSchema, { id: 'x', source: 'meld', split: Split.UNSPECIFIED, text: 'hi' });
  const res = await buildRecords(
    { sources: [bad], auScores: [], tasks: [], eriBackend: '', seed: 0 },
    deps(),
  );
  assert.deepEqual(res.dropCounts, { invalid_source: 1 });
  await assert.rejects(
    buildRecords({ sources: [], auScores: [], tasks: [], eriBackend: 'gpt', seed: 0 }, deps()),
    /unknown ERI backend "gpt"/,
  );
});
