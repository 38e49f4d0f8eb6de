import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ecpeScores } from './ecpe.js';

test('pair P/R/F1 and emotion-weighted F1 match a hand computation', () => {
  const golds = [
    {
      conversationId: 'c1',
      pairs: [
        { emotionUtt: 3, causeUtt: 3, emotion: 'joy' as const },
        { emotionUtt: 3, causeUtt: 1, emotion: 'joy' as const },
        { emotionUtt: 5, causeUtt: 4, emotion: 'anger' as const },
      ],
    },
    { conversationId: 'c2', pairs: [{ emotionUtt: 2, causeUtt: 2, emotion: 'joy' as const }] },
  ];
  // Predictions per target utterance (merged by conversation): c1 3,3 joy (right), 5,4 sadness (pair right,
  // emotion wrong), 5,5 anger (wrong); c2 2,2 joy (right) ; c3 1,1 joy (unknown conversation: wrong)
  const preds = [
    { conversationId: 'c1', pairs: [{ emotionUtt: 3, causeUtt: 3, emotion: 'joy' as const }] },
    {
      conversationId: 'c1',
      pairs: [
        { emotionUtt: 5, causeUtt: 4, emotion: 'sadness' as const },
        { emotionUtt: 5, causeUtt: 5, emotion: 'anger' as const },
      ],
    },
    { conversationId: 'c2', pairs: [{ emotionUtt: 2, causeUtt: 2, emotion: 'joy' as const }] },
    { conversationId: 'c3', pairs: [{ emotionUtt: 1, causeUtt: 1, emotion: 'joy' as const }] },
  ];
  const r = ecpeScores(preds, golds);
  // pairs: tp 3 (c1 3,3; c1 5,4; c2 2,2), predicted 5, gold 4 -> P .6 R .75 F1 2/3
  assert.equal(r.pair.tp, 3);
  assert.equal(r.pair.precision, 0.6);
  assert.equal(r.pair.recall, 0.75);
  assert.ok(Math.abs(r.pair.f1 - 2 / 3) < 1e-12);
  // joy: gold 3, pred 3, tp 2 -> F1 2/3 ; anger: gold 1, pred 1, tp 0 -> 0 ; sadness: gold 0 pred 1 -> 0 (weight 0)
  // weighted = (2/3*3 + 0*1)/4 = 0.5
  assert.ok(Math.abs(r.emotionWeightedF1 - 0.5) < 1e-12);
  assert.equal(r.perEmotion.sadness?.f1, 0);
  assert.equal(r.perEmotion.fear, undefined);
});

test('no predictions score zero, not NaN', () => {
  const r = ecpeScores(
    [],
    [{ conversationId: 'a', pairs: [{ emotionUtt: 1, causeUtt: 1, emotion: 'joy' }] }],
  );
  assert.equal(r.pair.f1, 0);
  assert.equal(r.emotionWeightedF1, 0);
});

test('a predicted pair without an emotion takes the gold emotion of its emotion utterance', () => {
  const golds = [
    { conversationId: 'c', pairs: [{ emotionUtt: 6, causeUtt: 5, emotion: 'disgust' as const }] },
  ];
  const r = ecpeScores([{ conversationId: 'c', pairs: [{ emotionUtt: 6, causeUtt: 5 }] }], golds);
  assert.equal(r.pair.f1, 1);
  assert.equal(r.emotionWeightedF1, 1);
});
