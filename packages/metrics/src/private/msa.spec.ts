import assert from 'node:assert/strict';
import { test } from 'node:test';
import { msaScores, msaScoresFromText } from './msa.js';

test('Acc-2 in both conventions from scores', () => {
  // gold:  -2  -1   0   0   1   2
  // pred:  -1   1  -1   0   0   2
  // non-negative convention (all 6): gold neg,neg,nn,nn,nn,nn ; pred neg,nn,neg,nn,nn,nn -> correct: 1,0,0,1,1,1 = 4/6
  //   neg: tp1 pred2 sup2 -> F1 .5 ; nn: tp3 pred4 sup4 -> P.75 R.75 F1 .75 ; weighted (.5*2+.75*4)/6 = 4/6
  // neg/pos convention (gold 0 left out: 4): gold neg,neg,pos,pos ; pred (>0) neg,pos,neg,pos -> 2/4
  //   neg: tp1 pred2 sup2 F1 .5 ; pos: tp1 pred2 sup2 F1 .5 -> .5
  const r = msaScores([-1, 1, -1, 0, 0, 2], [-2, -1, 0, 0, 1, 2]);
  assert.ok(Math.abs(r.nonNegative.accuracy - 4 / 6) < 1e-12);
  assert.ok(Math.abs(r.nonNegative.f1 - 4 / 6) < 1e-12);
  assert.equal(r.nonNegative.n, 6);
  assert.equal(r.negPos.accuracy, 0.5);
  assert.equal(r.negPos.f1, 0.5);
  assert.equal(r.negPos.n, 4);
});

test('Acc-2 from MELD-style label answers, unparsed counted as neutral', () => {
  // gold: positive negative neutral negative ; pred: Positive. neutral?? negative "?"
  // scores gold 1,-1,0,-1 ; pred 1,0,-1,0(unparsed)
  // non-negative: gold nn,neg,nn,neg ; pred nn,nn,neg,nn -> 1/4
  // neg/pos (3 kept: idx 0,1,3): gold pos,neg,neg ; pred pos,neg(0 is not >0),neg -> 3/3
  const r = msaScoresFromText(
    ['Positive.', 'neutral', 'NEGATIVE', '?'],
    ['Positive.', 'Negative.', 'Neutral.', 'Negative.'],
  );
  assert.equal(r.nonNegative.accuracy, 0.25);
  assert.equal(r.negPos.accuracy, 1);
  assert.equal(r.unparsed, 1);
});

test('stated scores are used when both sides have them (MOSEI)', () => {
  // gold 0.4 (positive) vs pred -0.2: label says neutral? no: scores decide -> wrong in both conventions
  const r = msaScoresFromText(['Neutral, score -0.2.'], ['Positive, score 0.4.']);
  assert.equal(r.nonNegative.accuracy, 0);
  assert.equal(r.negPos.accuracy, 0);
});
