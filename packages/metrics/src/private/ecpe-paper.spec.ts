// ECPE F1 as the paper's released scorer counts it: per record, emotion included, empty golds left out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ecpePairStrings, ecpePaperScores } from './ecpe-paper.js';

test('pair strings are split on ";", trimmed and lower-cased, duplicates and empties dropped', () => {
  assert.deepEqual([...ecpePairStrings(' 4_Joy,3 ;4_joy,3;; 4_joy,4\n')], ['4_joy,3', '4_joy,4']);
  assert.equal(ecpePairStrings('').size, 0);
});

test('micro P/R/F1 matches a hand count over the records', () => {
  const r = ecpePaperScores([
    // gold 2, predicted 2 (one right)
    { predicted: '4_joy,4;4_joy,2', gold: '4_joy,4;4_joy,3' },
    // gold 1, predicted 3 distinct (the repeated pair counts once; one right)
    { predicted: '2_ANGER,2;2_anger,2;2_anger,1;2_anger,0', gold: '2_anger,1' },
  ]);
  assert.deepEqual({ tp: r.tp, predicted: r.predicted, gold: r.gold }, { tp: 2, predicted: 5, gold: 3 });
  assert.equal(r.precision, 0.4);
  assert.ok(Math.abs(r.recall - 2 / 3) < 1e-12);
  assert.ok(Math.abs(r.f1 - 0.5) < 1e-12);
});

test('records with an empty gold are left out, their predictions too', () => {
  const kept = { predicted: '3_sadness,3', gold: '3_sadness,3' };
  const r = ecpePaperScores([kept, { predicted: '5_joy,5;5_joy,4', gold: ' ' }]);
  assert.deepEqual(
    { tp: r.tp, predicted: r.predicted, gold: r.gold, f1: r.f1 },
    { tp: 1, predicted: 1, gold: 1, f1: 1 },
  );
});

test('a pair must name the gold emotion word and belong to the same record', () => {
  const r = ecpePaperScores([
    { predicted: '4_happy,3', gold: '4_joy,3' }, // synonym: wrong here
    { predicted: '4,3', gold: '4_joy,3' }, // no emotion: wrong
    { predicted: '1_joy,1', gold: '2_joy,2' }, // right pair of another record: wrong
    { predicted: '', gold: '1_joy,1' },
  ]);
  assert.deepEqual(
    { tp: r.tp, predicted: r.predicted, gold: r.gold, f1: r.f1 },
    { tp: 0, predicted: 3, gold: 4, f1: 0 },
  );
});
