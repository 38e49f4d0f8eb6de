import assert from 'node:assert/strict';
import { test } from 'node:test';
import { erScoresFromText } from './er.js';

test('ER scores parse answers tolerantly before scoring', () => {
  // gold: joy joy anger neutral ; preds: happy(joy) Sad(sadness) ANGRY.(anger) gibberish(null)
  // joy: tp1 pred1 sup2 -> P1 R.5 F1 2/3 ; anger: tp1 pred1 sup1 -> F1 1 ; neutral: sup1 F1 0 ; sadness: pred1 sup0
  // weighted = (2/3*2 + 1*1 + 0*1)/4 = (7/3)/4
  const r = erScoresFromText(['happy', 'Sad', 'ANGRY.', '???'], ['Joy.', 'Joy.', 'Anger.', 'Neutral.']);
  assert.equal(r.accuracy, 0.5);
  assert.ok(Math.abs(r.weightedF1 - 7 / 12) < 1e-12);
  assert.equal(r.unparsed, 1);
});

test('a gold answer without a label is an error, not a silent zero', () => {
  assert.throws(() => erScoresFromText(['joy'], ['hmm']), /names no MELD emotion/);
});
