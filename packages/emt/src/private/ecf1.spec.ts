import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadEcf1, parseEcfBlocks } from './ecf1.js';
import { loadMeld } from './meld.js';
import { sharedDir } from './testdata.js';

test('a truncated block is reported with its line and the next block still loads', () => {
  const text = [
    '1 3',
    '(2,1)',
    '1 | Ross | neutral | Hi . | x',
    '2 | Rachel | joy | Hey ! | x',
    '2 2',
    '(1,1),(2,1)',
    '1 | Joey | joy | How you doin ? | y',
    '2 | Joey | joy | Yes | y',
  ].join('\n');
  const r = parseEcfBlocks(text, 'f.txt');
  assert.deepEqual(r.issues, [
    { file: 'f.txt', line: 5, reason: 'conversation 1: expected 3 utterance lines' },
  ]);
  assert.equal(r.blocks.length, 1);
  assert.equal(r.blocks[0].conversationId, 2);
  assert.deepEqual(r.blocks[0].pairs, [
    [1, 1],
    [2, 1],
  ]);
});

test('ECF 1.0 loads with its split, pairs and MELD ids', () => {
  const shared = sharedDir();
  const meld = loadMeld(join(shared, 'data', 'meld'));
  const r = loadEcf1(join(shared, 'data', 'ecf', 'mecpe'), meld.utterances);
  assert.deepEqual(r.issues, []);
  const bySplit = (s: string) => r.conversations.filter((c) => c.split === s);
  assert.deepEqual(
    ['train', 'dev', 'test'].map((s) => bySplit(s).length),
    [1001, 112, 261],
  );
  assert.deepEqual(
    ['train', 'dev', 'test'].map((s) => bySplit(s).reduce((n, c) => n + c.pairs.length, 0)),
    [7055, 866, 1873],
  );
  const conv18 = r.conversations.find((c) => c.id === 'ecf1/conv18')!;
  assert.equal(conv18.split, 'dev');
  assert.equal(
    conv18.utterances[2].text,
    'If I were omnipotent for a day , I would want , um , world peace , no more hunger , good things for the rain ... forest ... And bigger boobs !',
  );
  assert.deepEqual(conv18.pairs[0], { emotionUtt: 3, causeUtt: 3, emotion: 'joy' });
  // Train conversation 544 runs from MELD test dialogue 73 into train dialogue 393: both are its scenes.
  assert.deepEqual(r.conversations.find((c) => c.id === 'ecf1/conv544')!.sceneKeys, [
    'meld/test/dia73',
    'meld/train/dia393',
  ]);
  // Nearly every utterance has a MELD id; the rest are lines MELD does not have.
  assert.ok(r.link.byMap > 13_000 && r.link.unmatched < 300, JSON.stringify(r.link));
  const meldIds = new Set(meld.utterances.map((u) => u.id));
  const linked = r.conversations.flatMap((c) => c.utterances.filter((u) => u.meldId));
  assert.ok(linked.every((u) => meldIds.has(u.meldId!)));
});
