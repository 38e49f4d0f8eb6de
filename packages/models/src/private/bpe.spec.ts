import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToUnicode, trainByteLevelBpe } from './bpe.js';
import { TextTokenizer } from './tokenizer.js';

describe('byte-level BPE trainer', () => {
  it('learns frequent words, round-trips any text, keeps special tokens whole', () => {
    const corpus = Array(50)
      .fill("I can't believe it! Oh my God, that's amazing. Why are you so angry?")
      .concat(['joie colère 快乐 😊']);
    const json = trainByteLevelBpe(corpus, {
      vocabSize: 400,
      specialTokens: ['<|pad|>', '<|eos|>', '<|image|>'],
    });
    const tok = new TextTokenizer(json);
    assert.ok(tok.vocabSize > 259 && tok.vocabSize <= 400);
    assert.deepEqual(tok.tokens(' amazing'), ['Ġamazing']);
    for (const s of ['Oh my God!', 'Émotions: 快乐 😊\n\ttabs', 'unseen wordz xyzzy'])
      assert.equal(tok.decode(tok.encode(s)), s);
    const ids = tok.encode('<|image|> Why are you so angry?');
    assert.equal(ids[0], 2);
    assert.ok(ids.length <= 7, `${ids.length} tokens`);
    assert.equal(bytesToUnicode()[32], 'Ġ');
  });
});
