import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classificationReport } from './classification.js';

test('accuracy and weighted F1 match a hand computation', () => {
  // truths: a a a b b c ; preds: a a b b c null
  // a: tp2 pred2 sup3 -> P1 R2/3 F1 0.8 ; b: tp1 pred2 sup2 -> P.5 R.5 F1 .5 ; c: tp0 pred1 sup1 -> F1 0
  // weighted = (0.8*3 + 0.5*2 + 0*1)/6 = 3.4/6 ; macro = 1.3/3 ; accuracy 3/6
  const r = classificationReport(
    ['a', 'a', 'b', 'b', 'c', null],
    ['a', 'a', 'a', 'b', 'b', 'c'],
    ['a', 'b', 'c'],
  );
  assert.equal(r.accuracy, 0.5);
  assert.ok(Math.abs(r.weightedF1 - 3.4 / 6) < 1e-12);
  assert.ok(Math.abs(r.macroF1 - 1.3 / 3) < 1e-12);
  assert.equal(r.unparsed, 1);
  assert.equal(r.perClass.a.support, 3);
  assert.ok(Math.abs(r.perClass.a.f1 - 0.8) < 1e-12);
});

test('length mismatch is an error', () => {
  assert.throws(() => classificationReport(['a'], ['a', 'b'], ['a', 'b']), /differ in length/);
});
