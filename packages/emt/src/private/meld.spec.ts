import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMeld, parseMeldCsv } from './meld.js';
import { sharedDir } from './testdata.js';

const HEADER =
  'Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\r\n';

test('malformed rows are reported with file and line and the rest still loads', () => {
  const text =
    HEADER +
    '1,"Oh, Iâ€™m fine.",Ross,joy,positive,0,0,1,1,"00:00:01,000","00:00:02,000"\r\n' +
    '2,too few fields,Ross,joy\r\n' +
    '3,"What?",Rachel,bogus,neutral,0,1,1,1,"00:00:03,000","00:00:04,000"\r\n' +
    '4,"Multi\r\nline",Joey,neutral,neutral,x,2,1,1,"00:00:05,000","00:00:06,000"\r\n' +
    '5,"",Joey,anger,negative,0,3,1,1,"00:00:07,000","00:00:08,000"\r\n';
  const r = parseMeldCsv(text, 'dev', 'dev.csv');
  assert.deepEqual(
    r.issues.map((i) => `${i.file}:${i.line}`),
    ['dev.csv:3', 'dev.csv:4', 'dev.csv:5'],
  );
  assert.match(r.issues[0].reason, /expected 11 fields, found 4/);
  assert.match(r.issues[1].reason, /unknown emotion "bogus"/);
  assert.equal(r.utterances.length, 3);
  const [a, b, c] = r.utterances;
  assert.equal(a.text, 'Oh, I’m fine.'); // mis-encoded apostrophe repaired
  assert.equal(a.id, 'meld/dev/dia0_utt0');
  assert.equal(a.index, 1);
  assert.equal(a.video, 'MELD/dev/dia0_utt0.mp4');
  assert.equal(b.emotion, undefined); // kept, so quality control can count the missing label
  assert.equal(b.sentiment, 'neutral');
  assert.equal(c.text, '');
  assert.deepEqual(c.origin, { file: 'dev.csv', line: 7 });
});

test('the real MELD CSVs load completely', () => {
  const r = loadMeld(join(sharedDir(), 'data', 'meld'));
  assert.deepEqual(r.issues, []);
  const count = (split: string) => r.utterances.filter((u) => u.split === split).length;
  assert.deepEqual([count('train'), count('dev'), count('test')], [9989, 1109, 2610]);
  const test = r.utterances.filter((u) => u.split === 'test');
  assert.equal(test.filter((u) => u.emotion === 'neutral').length, 1256);
  assert.equal(test.filter((u) => u.sentiment === 'negative').length, 833);
  assert.ok(r.utterances.every((u) => u.emotion && u.sentiment && u.text.length > 0));
  const first = test.find((u) => u.id === 'meld/test/dia0_utt0');
  assert.equal(first?.text, 'Why do all you’re coffee mugs have numbers on the bottom?');
  assert.equal(first?.speaker, 'Mark');
});

test('a missing file is an issue, not an exception', () => {
  const r = loadMeld('/nonexistent-meld-dir', ['dev']);
  assert.equal(r.utterances.length, 0);
  assert.match(r.issues[0].reason, /cannot read/);
});
