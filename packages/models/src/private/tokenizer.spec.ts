import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sharedDirForTests } from '@emoverse/safetensors/testing';
import { TextTokenizer } from './tokenizer.js';

const dir = join(sharedDirForTests(), 'fixtures', 'tokenizers');
const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Record<
  string,
  { text: string; ids: number[]; tokens: string[]; decoded: string }[]
>;

describe('tokenizers match the Python tokenizers library', () => {
  for (const name of ['bytelevel-bpe', 'sentencepiece-bpe']) {
    it(`${name}: ids, tokens and decoded text of every reference string`, () => {
      const tok = TextTokenizer.fromFile(join(dir, `${name}.json`));
      assert.ok(reference[name].length >= 7);
      for (const c of reference[name]) {
        assert.deepEqual(tok.encode(c.text), c.ids, `ids of ${JSON.stringify(c.text)}`);
        assert.deepEqual(tok.tokens(c.text), c.tokens, `tokens of ${JSON.stringify(c.text)}`);
        assert.equal(tok.decode(c.ids), c.decoded, `decode of ${JSON.stringify(c.text)}`);
      }
      assert.equal(tok.vocabSize, 600);
      const withImage = reference[name].find((c) => c.text.startsWith('<|image|>'))!;
      assert.equal(tok.tokenId('<|image|>'), withImage.ids[0]);
    });
  }

  it('renders chat templates with jinja, including a template from tokenizer_config', () => {
    const tj = JSON.parse(readFileSync(join(dir, 'bytelevel-bpe.json'), 'utf8'));
    const tok = new TextTokenizer(tj, {
      bos_token: '<|begin_of_text|>',
      chat_template:
        '{{ bos_token }}{% for m in messages %}[{{ m.role | upper }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[ASSISTANT] {% endif %}',
    });
    const text = tok.applyChatTemplate(
      [
        { role: 'system', content: 'Classify the emotion.' },
        { role: 'user', content: '<|image|> Oh my God!' },
      ],
      { addGenerationPrompt: true },
    );
    assert.equal(
      text,
      '<|begin_of_text|>[SYSTEM] Classify the emotion.\n[USER] <|image|> Oh my God!\n[ASSISTANT] ',
    );
    const ids = tok.encode(text);
    assert.equal(ids[0], tok.tokenId('<|begin_of_text|>'));
    assert.ok(ids.includes(2));
    const plain = TextTokenizer.fromFile(join(dir, 'bytelevel-bpe.json'));
    assert.equal(
      plain.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }),
      '<|user|>\nhi\n<|assistant|>\n',
    );
  });
});
