import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMosei } from './mosei.js';

test('MOSEI CSV: scores give labels, bad rows are reported with their line', () => {
  const text =
    'segment_id,text,score,split\r\nvidA_1,"Good, really good",1.6,train\r\nvidA_2,meh,0,train\r\nvidB_0,bad,-2.2,test\r\nvidB_1,oops,4.5,test\r\nvidC_0,x,0.2,holdout\r\n';
  const r = parseMosei(text, 'm.csv');
  assert.deepEqual(
    r.utterances.map((u) => [u.id, u.split, u.sentiment, u.sentimentScore, u.conversationId]),
    [
      ['mosei/train/vidA_1', 'train', 'positive', 1.6, 'mosei/vidA'],
      ['mosei/train/vidA_2', 'train', 'neutral', 0, 'mosei/vidA'],
      ['mosei/test/vidB_0', 'test', 'negative', -2.2, 'mosei/vidB'],
    ],
  );
  assert.deepEqual(
    r.issues.map((i) => [i.file, i.line]),
    [
      ['m.csv', 5],
      ['m.csv', 6],
    ],
  );
  assert.match(r.issues[0].reason, /not a number in \[-3, 3\]/);
});

test('MOSEI JSONL with the default split', () => {
  const r = parseMosei('{"segment_id":"v_1","text":"fine","score":-0.4}\nnot json\n', 'm.jsonl', 'dev');
  assert.equal(r.utterances[0].split, 'dev');
  assert.equal(r.utterances[0].sentiment, 'negative');
  assert.deepEqual(r.issues, [{ file: 'm.jsonl', line: 2, reason: 'invalid JSON line' }]);
});
