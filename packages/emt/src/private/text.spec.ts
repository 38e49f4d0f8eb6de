import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanText, matchWords, repairMojibake, wordDice } from './text.js';

test('repairMojibake undoes cp1252/latin-1 double decoding and leaves good text alone', () => {
  assert.equal(repairMojibake('Iâ€™m fine â€” really â€¦'), 'I’m fine — really …');
  assert.equal(repairMojibake('cafÃ©'), 'café');
  assert.equal(repairMojibake('don\u0092t'), 'don’t');
  const good = 'You’re a genius! Café — “yes” …';
  assert.equal(repairMojibake(good), good);
});

test('cleanText trims and turns line breaks into spaces but keeps inner spacing', () => {
  assert.equal(cleanText('  Hi,\r\nyou.  Okay\u200b '), 'Hi, you.  Okay');
});

test("ECF's tokenised, expanded text meets MELD's raw text", () => {
  const meld = matchWords('I’m sorry, I don’t know... Monica’s brother? It’s fine.');
  const ecf = matchWords('I am sorry , I do not know ... Monica brother ? It is fine .');
  assert.deepEqual(meld, ecf);
  assert.equal(wordDice(meld, ecf), 1);
  assert.ok(wordDice(matchWords('Okay .'), matchWords('Get out of here!')) < 0.1);
});
