import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ecpeSelfCauseBaseline,
  erMajorityBaseline,
  majorityClass,
  msaMajorityBaseline,
} from './baselines.js';

test('majorityClass picks the most frequent, ties by first appearance', () => {
  assert.equal(majorityClass(['b', 'a', 'a', 'b', 'c']), 'b');
  assert.equal(majorityClass(['x', 'y', 'y']), 'y');
  assert.throws(() => majorityClass([]), /empty/);
});

test('ER majority baseline: accuracy and weighted F1 of always-neutral', () => {
  // test: neutral x2, joy x1, anger x1 -> acc .5 ; neutral P .5 R 1 F1 2/3 support 2, others 0 -> WF1 (2/3*2)/4 = 1/3
  const r = erMajorityBaseline(['neutral', 'neutral', 'joy'], ['neutral', 'joy', 'neutral', 'anger']);
  assert.equal(r.label, 'neutral');
  assert.equal(r.accuracy, 0.5);
  assert.ok(Math.abs(r.weightedF1 - 1 / 3) < 1e-12);
});

test('MSA majority baseline: always-negative in both Acc-2 conventions', () => {
  // test: negative, positive, neutral, negative. always negative (-1):
  // non-negative: gold neg,nn,nn,neg -> 2/4 ; neg/pos (neutral out): gold neg,pos,neg -> 2/3
  const r = msaMajorityBaseline(
    ['negative', 'negative', 'positive'],
    ['negative', 'positive', 'neutral', 'negative'],
  );
  assert.equal(r.label, 'negative');
  assert.equal(r.nonNegative.accuracy, 0.5);
  assert.ok(Math.abs(r.negPos.accuracy - 2 / 3) < 1e-12);
});

test('ECPE self-cause baseline', () => {
  // gold: c1 3->3, 3->1 (joy); c1 5->4 (anger). targets: 3 (joy), 5 (anger), 7 (sadness, no cause)
  // predictions 3->3, 5->5, 7->7: tp 1, predicted 3, gold 3 -> P = R = F1 = 1/3
  const golds = [
    {
      conversationId: 'c1',
      pairs: [
        { emotionUtt: 3, causeUtt: 3, emotion: 'joy' as const },
        { emotionUtt: 3, causeUtt: 1, emotion: 'joy' as const },
        { emotionUtt: 5, causeUtt: 4, emotion: 'anger' as const },
      ],
    },
  ];
  const r = ecpeSelfCauseBaseline(
    [
      { conversationId: 'c1', emotionUtt: 3, emotion: 'joy' },
      { conversationId: 'c1', emotionUtt: 5, emotion: 'anger' },
      { conversationId: 'c1', emotionUtt: 7, emotion: 'sadness' },
    ],
    golds,
  );
  assert.ok(Math.abs(r.pair.f1 - 1 / 3) < 1e-12);
  // joy: tp1 pred1 gold2 -> P1 R.5 F1 2/3 ; anger: 0 ; weighted by gold share (2/3 joy, 1/3 anger) = 4/9
  assert.ok(Math.abs(r.emotionWeightedF1 - 4 / 9) < 1e-12);
});
