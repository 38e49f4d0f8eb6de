import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEcpePairs, parseEmotion, parseSentiment } from './parse.js';

test('parseEmotion ignores case and punctuation and maps synonyms', () => {
  assert.equal(parseEmotion('Sadness.'), 'sadness');
  assert.equal(parseEmotion('  JOY!!'), 'joy');
  assert.equal(parseEmotion('happy'), 'joy');
  assert.equal(parseEmotion('The person looks Angry, clearly.'), 'anger');
  assert.equal(parseEmotion('“Surprised”'), 'surprise');
  assert.equal(parseEmotion('afraid'), 'fear');
  assert.equal(parseEmotion('Disgusted.'), 'disgust');
  assert.equal(parseEmotion('neutral'), 'neutral');
});

test('parseEmotion takes the first label, skips negated ones, returns null for none', () => {
  assert.equal(parseEmotion('Joy. Not sadness.'), 'joy');
  assert.equal(parseEmotion('not angry but sad'), 'sadness');
  assert.equal(parseEmotion('I cannot tell.'), null);
  assert.equal(parseEmotion(''), null);
  assert.equal(parseEmotion('None'), 'neutral');
  assert.equal(parseEmotion('none of these, he is happy'), 'joy');
});

test('parseSentiment reads a polarity word, a score or both', () => {
  assert.deepEqual(parseSentiment('Negative.'), { label: 'negative' });
  assert.deepEqual(parseSentiment('POSITIVE, score 1.4.'), { label: 'positive', score: 1.4 });
  assert.deepEqual(parseSentiment('-0.8'), { label: 'negative', score: -0.8 });
  assert.deepEqual(parseSentiment('0'), { label: 'neutral', score: 0 });
  assert.deepEqual(parseSentiment('score: 7, positive'), { label: 'positive' });
  assert.equal(parseSentiment('no idea'), null);
});

test('parseEcpePairs reads the paper format and common variants', () => {
  assert.deepEqual(parseEcpePairs('6_disgust,5;6_disgust,6'), [
    { emotionUtt: 6, causeUtt: 5, emotion: 'disgust' },
    { emotionUtt: 6, causeUtt: 6, emotion: 'disgust' },
  ]);
  assert.deepEqual(parseEcpePairs('(3,1),(3, 2)'), [
    { emotionUtt: 3, causeUtt: 1 },
    { emotionUtt: 3, causeUtt: 2 },
  ]);
  assert.deepEqual(parseEcpePairs('3_Happy , 1\n3_happy,1； 4_sad，4'), [
    { emotionUtt: 3, causeUtt: 1, emotion: 'joy' },
    { emotionUtt: 4, causeUtt: 4, emotion: 'sadness' },
  ]);
  assert.deepEqual(parseEcpePairs(''), []);
  assert.deepEqual(parseEcpePairs('no cause'), []);
});
