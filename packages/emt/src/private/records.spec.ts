import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FerCaptioner } from './fer.js';
import { makeRecords } from './records.js';
import { recordErrors } from './schema.js';
import type { SourceConversation, SourceUtterance, Split } from './types.js';

function utt(split: Split, dia: number, u: number, extra: Partial<SourceUtterance> = {}): SourceUtterance {
  return {
    id: `meld/${split}/dia${dia}_utt${u}`,
    source: 'meld',
    split,
    conversationId: `meld/${split}/dia${dia}`,
    index: u + 1,
    speaker: 'Ross',
    text: `line ${u}`,
    emotion: 'joy',
    sentiment: 'positive',
    video: `MELD/${split}/dia${dia}_utt${u}.mp4`,
    ...extra,
  };
}

// A captioner for the interface only: names the AUs above 1 that are in a fixed "happy" list.
const captioner: FerCaptioner = {
  auCommon(aus) {
    const common = ['AU06', 'AU12'].filter((a) => (aus[a] ?? 0) >= 1);
    return { caption: common.join('; '), aus: common };
  },
};

test('quality control drops and counts per reason', async () => {
  const utterances = [
    utt('train', 0, 0),
    utt('train', 0, 1, { emotion: undefined, sentiment: undefined }), // missing labels
    utt('train', 0, 2, { text: '   ' }), // empty text
    utt('train', 0, 3, { text: 'line 0' }), // same speaker, same words, same dialogue as utt 0: duplicate
    utt('train', 0, 4, { text: 'line 0', speaker: 'Rachel' }), // another speaker: not a duplicate
    utt('test', 5, 0, { text: 'Hey!' }),
    utt('test', 5, 1, { text: 'hey' }), // duplicates are kept in test (published test sizes)
  ];
  const { records, quality } = await makeRecords({ utterances, conversations: [] }, { tasks: ['er', 'msa'] });
  assert.deepEqual(quality.droppedByTask.er, { missing_label: 1, empty_text: 1, duplicate: 1 });
  assert.deepEqual(quality.dropped, { missing_label: 2, empty_text: 2, duplicate: 2 });
  assert.deepEqual(
    records.filter((r) => r.task === 'er').map((r) => r.sourceId),
    ['meld/train/dia0_utt0', 'meld/train/dia0_utt4', 'meld/test/dia5_utt0', 'meld/test/dia5_utt1'],
  );
  const dup = quality.drops.find((d) => d.reason === 'duplicate' && d.task === 'er');
  assert.equal(dup?.sourceId, 'meld/train/dia0_utt3');
});

test('FER needs a face: no AU scores or no face are dropped as no_face', async () => {
  const utterances = [utt('train', 1, 0), utt('train', 1, 1), utt('train', 1, 2)];
  const peakAus = new Map([
    ['MELD/train/dia1_utt0.mp4', { AU06: 2.1, AU12: 3.0, AU04: 2.5 }],
    ['MELD/train/dia1_utt1.mp4', null],
  ]);
  const { records, quality } = await makeRecords(
    { utterances, conversations: [] },
    { tasks: ['fer', 'eri'], fer: { captioner, peakAus } },
  );
  assert.deepEqual(quality.droppedByTask.fer, { no_face: 2 });
  const fer = records.find((r) => r.task === 'fer')!;
  assert.equal(fer.response, 'AU06; AU12');
  assert.equal(fer.meta.aus, 'AU06,AU12');
  // The ERI rationale of the same clip uses the face.
  const eri = records.find((r) => r.sourceId === fer.sourceId && r.task === 'eri')!;
  assert.match(eri.response, /^Joy\. .*AU06; AU12/);
});

test('a train conversation that shares a scene with test is dropped as test_leak', async () => {
  const conv = (id: string, split: Split, sceneKeys: string[]): SourceConversation => ({
    id,
    source: 'ecf1',
    split,
    sceneKeys,
    pairs: [{ emotionUtt: 2, causeUtt: 1, emotion: 'anger' }],
    utterances: [1, 2].map((i) => ({
      id: `${id}/utt${i}`,
      source: 'ecf1' as const,
      split,
      conversationId: id,
      index: i,
      speaker: 'A',
      text: `t${i}`,
      emotion: i === 2 ? ('anger' as const) : ('neutral' as const),
    })),
  });
  const utterances = [utt('test', 73, 0)];
  const conversations = [
    conv('ecf1/conv1', 'train', ['meld/train/dia393', 'meld/test/dia73']),
    conv('ecf1/conv2', 'train', ['meld/train/dia9']),
  ];
  const { records, quality } = await makeRecords({ utterances, conversations }, { tasks: ['er', 'ecpe'] });
  assert.deepEqual(quality.dropped, { test_leak: 1 });
  assert.match(quality.drops[0].detail!, /meld\/test\/dia73/);
  const ecpe = records.filter((r) => r.task === 'ecpe');
  assert.deepEqual(
    ecpe.map((r) => [r.id, r.response]),
    [['ecpe/ecf1/conv2/utt2', '2_anger,1']],
  );
});

test('conversation mode: one ECPE record with every pair', async () => {
  const id = 'ecf2/conv9';
  const conversations: SourceConversation[] = [
    {
      id,
      source: 'ecf2',
      split: 'test',
      sceneKeys: [id],
      pairs: [
        { emotionUtt: 3, causeUtt: 3, emotion: 'joy' },
        { emotionUtt: 2, causeUtt: 1, emotion: 'fear' },
      ],
      utterances: (['neutral', 'fear', 'joy'] as const).map((emotion, k) => ({
        id: `${id}/utt${k + 1}`,
        source: 'ecf2' as const,
        split: 'test' as const,
        conversationId: id,
        index: k + 1,
        speaker: 'B',
        text: `u${k + 1}`,
        emotion,
      })),
    },
  ];
  const { records } = await makeRecords(
    { utterances: [], conversations },
    { tasks: ['ecpe'], ecpeMode: 'conversation' },
  );
  assert.equal(records.length, 1);
  assert.equal(records[0].response, '2_fear,1;3_joy,3');
  assert.match(records[0].query, /Input conversation:1_neutral\. B: u1\n2_fear\. B: u2\n3_joy\. B: u3\n/);
});

test('the schema rejects malformed records', () => {
  const good = {
    id: 'er/meld/dev/dia0_utt0',
    task: 'er',
    split: 'dev',
    source: 'meld',
    query: 'q',
    response: 'Joy.',
    videos: ['MELD/dev/dia0_utt0.mp4'],
    sourceId: 'meld/dev/dia0_utt0',
    meta: { conversation: 'meld/dev/dia0', emotion: 'joy' },
  };
  assert.equal(recordErrors(good), null);
  assert.match(recordErrors({ ...good, response: 'Happy' })!, /response/);
  assert.match(recordErrors({ ...good, split: 'validation' })!, /split/);
  assert.match(recordErrors({ ...good, extra: 1 })!, /additional/);
  assert.match(
    recordErrors({
      ...good,
      task: 'ecpe',
      id: 'ecpe/x',
      response: '3,1',
      meta: { conversation: 'c', pairs: '3,1' },
    })!,
    /pattern/,
  );
  assert.match(
    recordErrors({ ...good, task: 'msa', id: 'msa/x', response: 'Positive.', meta: { conversation: 'c' } })!,
    /sentiment/,
  );
});

test('context turns feed ERI history without becoming records; ecpeTargets picks targets', async () => {
  const context = [utt('dev', 3, 0, { text: 'You ate my sandwich?', speaker: 'Joey', emotion: 'anger' })];
  const target = utt('dev', 3, 1, { text: 'It was an accident!', speaker: 'Ross', emotion: 'fear' });
  const { records } = await makeRecords(
    { utterances: [target], conversations: [], context },
    { tasks: ['er', 'eri'] },
  );
  assert.deepEqual(
    records.map((r) => r.id),
    ['er/meld/dev/dia3_utt1', 'eri/meld/dev/dia3_utt1'],
  );
  assert.match(
    records[1].query,
    /^Conversation so far:\nJoey: You ate my sandwich\?\nRoss says: 'It was an accident!'/,
  );
  assert.match(records[1].response, /^Fear\. .*Joey saying "You ate my sandwich\?"/);

  const id = 'ecf1/conv5';
  const conv: SourceConversation = {
    id,
    source: 'ecf1',
    split: 'dev',
    sceneKeys: [id],
    pairs: [
      { emotionUtt: 1, causeUtt: 1, emotion: 'anger' },
      { emotionUtt: 2, causeUtt: 1, emotion: 'fear' },
    ],
    utterances: [context[0], target].map((u, k) => ({
      ...u,
      id: `${id}/utt${k + 1}`,
      conversationId: id,
      index: k + 1,
    })),
  };
  const only2 = await makeRecords(
    { utterances: [], conversations: [conv] },
    { tasks: ['ecpe'], ecpeTargets: new Set([`${id}/utt2`]) },
  );
  assert.deepEqual(
    only2.records.map((r) => [r.id, r.response]),
    [['ecpe/ecf1/conv5/utt2', '2_fear,1']],
  );
});
