import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadEcf2, parseEcf2Json } from './ecf2.js';
import { sharedDir } from './testdata.js';

test('ECF 2.0 Subtask 2 test set: conversations, utterances, pairs and videos', () => {
  const r = loadEcf2(join(sharedDir(), 'data', 'ecf', 'semeval2024_ecac', 'Subtask_2_test.json'), 'test');
  assert.deepEqual(r.issues, []);
  assert.equal(r.conversations.length, 341);
  assert.equal(
    r.conversations.reduce((n, c) => n + c.utterances.length, 0),
    3101,
  );
  assert.equal(
    r.conversations.reduce((n, c) => n + c.pairs.length, 0),
    2462,
  );
  const c = r.conversations.find((x) => x.id === 'ecf2/conv1375')!;
  assert.equal(c.utterances[0].video, 'ECF2/test/dia1375utt1.mp4');
  assert.deepEqual(c.pairs[0], { emotionUtt: 1, causeUtt: 1, emotion: 'disgust' });
  assert.deepEqual(c.sceneKeys, ['ecf2/conv1375']);
});

test('span-level causes reduce to utterances; bad entries are reported with their line', () => {
  const text = `[
  {"conversation_ID": 7, "conversation": [
    {"utterance_ID": 1, "text": "Hi .", "speaker": "A", "emotion": "neutral"},
    {"utterance_ID": 2, "text": "Oh no !", "speaker": "B", "emotion": "sadness"}],
   "emotion-cause_pairs": [["2_sadness", "1_Hi ."], ["2_sadness", "1_Hi"], ["2_sadness", "9_x"]]},
  {"conversation": []}
]`;
  const r = parseEcf2Json(text, 'train', 'x.json');
  assert.equal(r.conversations.length, 1);
  assert.deepEqual(r.conversations[0].pairs, [{ emotionUtt: 2, causeUtt: 1, emotion: 'sadness' }]);
  assert.deepEqual(
    r.issues.map((i) => [i.line, i.reason.slice(0, 28)]),
    [
      [2, 'conversation 7: bad pair ["2'],
      [6, 'entry 1: needs conversation_'],
    ],
  );
  assert.equal(parseEcf2Json('[{"conversation_ID": 1,\n  oops]', 'test', 'y.json').issues[0].line, 2);
});
