// The bag-of-words baseline: TF-IDF n-grams as scikit-learn makes them, and a logistic regression that fits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { charWbNgrams, trainBowClassifier, wordNgrams } from './bow-classifier.js';

const TEXTS = [
  'I love this, it is wonderful',
  'what a lovely happy day',
  'so happy and glad for you',
  'wonderful news, I love it',
  'I hate this, it is awful',
  'what a terrible sad day',
  'so angry and upset with you',
  'awful news, I hate it',
];
const LABELS = ['pos', 'pos', 'pos', 'pos', 'neg', 'neg', 'neg', 'neg'];

test('word n-grams are lower-cased tokens of two or more word characters, then adjacent pairs', () => {
  assert.deepEqual(wordNgrams('I said: Hello, World_2!'), [
    'said',
    'hello',
    'world_2',
    'said hello',
    'hello world_2',
  ]);
  assert.deepEqual(wordNgrams('a I'), []);
});

test('char_wb n-grams stay inside space-padded words and a short word is taken whole once', () => {
  assert.deepEqual(charWbNgrams('Ab  c', 2, 5), [' a', 'ab', 'b ', ' ab', 'ab ', ' ab ', ' c', 'c ', ' c ']);
  // code points, not UTF-16 units: the emoji is one character
  assert.deepEqual(charWbNgrams('x😀', 3, 3), [' x😀', 'x😀 ']);
});

test('a small separable set is learned perfectly, with probabilities that sum to one', () => {
  const clf = trainBowClassifier(TEXTS, LABELS);
  assert.deepEqual(clf.labels, ['neg', 'pos']);
  assert.deepEqual(clf.predict(TEXTS), LABELS);
  for (const row of clf.probabilities(TEXTS)) {
    assert.equal(row.length, 2);
    assert.ok(Math.abs(row[0] + row[1] - 1) < 1e-12);
  }
  assert.deepEqual(clf.predict(['I love it, wonderful', 'terrible and awful']), ['pos', 'neg']);
});

test('training is deterministic: the same data give the same probabilities', () => {
  const a = trainBowClassifier(TEXTS, LABELS, { C: 2 }).probabilities(['happy news', 'sad news']);
  const b = trainBowClassifier(TEXTS, LABELS, { C: 2 }).probabilities(['happy news', 'sad news']);
  assert.deepEqual(a, b);
});

test('the objective decreases from ln K at W = 0 at every iteration and training converges', () => {
  const clf = trainBowClassifier(TEXTS, LABELS);
  const { objective, iterations, converged } = clf.training;
  assert.ok(Math.abs(objective[0] - Math.log(2)) < 1e-12);
  assert.ok(iterations > 0 && converged);
  for (let i = 1; i < objective.length; i++) assert.ok(objective[i] < objective[i - 1]);
});

test('a stronger penalty (smaller C) gives less confident probabilities', () => {
  const confidence = (C: number) => trainBowClassifier(TEXTS, LABELS, { C }).probabilities([TEXTS[0]])[0][1];
  assert.ok(confidence(0.1) < confidence(10));
  assert.ok(confidence(0.1) > 0.5);
});

test('unseen words, empty and punctuation-only texts fall back to the class priors without crashing', () => {
  const clf = trainBowClassifier([...TEXTS, 'fine'], [...LABELS, 'neg']);
  const [unseen, empty, punct] = clf.probabilities(['zzqx qqzz', '', '?!']);
  assert.deepEqual(unseen, empty); // no known n-gram: only the biases speak
  assert.ok(punct.every(Number.isFinite));
  assert.equal(clf.predict(['zzqx'])[0], 'neg'); // 5 of 9 training texts are neg
});

test('min_df drops n-grams seen in too few training texts', () => {
  const all = trainBowClassifier(TEXTS, LABELS).training.features;
  const common = trainBowClassifier(TEXTS, LABELS, { minDf: 2 }).training.features;
  assert.ok(common < all && common > 0);
});

test('texts and labels of different lengths are refused', () => {
  assert.throws(() => trainBowClassifier(['a b'], ['x', 'y']), /differ in length/);
});
