// The positional ECPE baselines' answers: the target itself, and the utterance before it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ecpeBaselineAnswer, ecpeBaselineAnswers } from './ecpe-baselines.js';
import { parseEcpePairs } from './parse.js';

test('"self" answers the target as its own cause', () => {
  assert.equal(ecpeBaselineAnswer({ targetUtt: 4, emotion: 'joy', utterances: 6 }, 'self'), '4_joy,4');
});

test('"self+previous" adds the utterance before the target, except for the first utterance', () => {
  const records = [
    { targetUtt: 4, emotion: 'Joy ', utterances: 6 },
    { targetUtt: 1, emotion: 'anger', utterances: 3 },
  ];
  assert.deepEqual(ecpeBaselineAnswers(records, 'self+previous'), ['4_joy,4;4_joy,3', '1_anger,1']);
});

test('the answers parse back into the pairs they state', () => {
  const answer = ecpeBaselineAnswer({ targetUtt: 2, emotion: 'sadness', utterances: 2 }, 'self+previous');
  assert.deepEqual(parseEcpePairs(answer), [
    { emotionUtt: 2, causeUtt: 2, emotion: 'sadness' },
    { emotionUtt: 2, causeUtt: 1, emotion: 'sadness' },
  ]);
});

test('a target outside its conversation is refused', () => {
  assert.throws(
    () => ecpeBaselineAnswer({ targetUtt: 5, emotion: 'joy', utterances: 4 }, 'self'),
    /outside 1\.\.4/,
  );
  assert.throws(() => ecpeBaselineAnswer({ targetUtt: 0, emotion: 'joy', utterances: 4 }, 'self'), /outside/);
});
