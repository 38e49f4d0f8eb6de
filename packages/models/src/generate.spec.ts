import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Generator } from './private/generate.js';
import { DecoderModel } from './private/lm.js';
import { sampleToken, seededRandom } from './private/sampling.js';
import { FIXTURES, readReference } from './private/test-support.js';

describe('generation with a KV cache', () => {
  for (const name of ['llama-tiny', 'phi3-tiny', 'qwen2-tiny']) {
    it(`${name}: greedy decoding reproduces transformers' greedy_ids exactly`, async () => {
      const model = DecoderModel.fromDir(join(FIXTURES, name));
      const ref = readReference(join(FIXTURES, name, 'reference.safetensors'));
      const prompt = ref.get('greedy_prompt')!.ints!;
      const expected = ref.get('greedy_ids')!.ints!;
      const gen = await Generator.create(model);
      const r = await gen.generate([prompt], {
        maxNewTokens: expected.length - prompt.length,
        eosTokenIds: [],
      });
      assert.deepEqual([...prompt, ...r.tokens[0]], expected);
      assert.equal(r.finish[0], 'length');
      await gen.release();
    });
  }

  it('a left-padded batch gives each row what it gives alone (greedy)', async () => {
    const model = DecoderModel.fromDir(join(FIXTURES, 'llama-tiny'));
    const gen = await Generator.create(model);
    const prompts = [
      [5, 17, 200, 33, 9, 41, 7],
      [100, 3],
      [250, 251, 252, 12],
    ];
    const batched = await gen.generate(prompts, { maxNewTokens: 6, eosTokenIds: [] });
    for (let b = 0; b < prompts.length; b++) {
      const alone = await gen.generate([prompts[b]], { maxNewTokens: 6, eosTokenIds: [] });
      assert.deepEqual(batched.tokens[b], alone.tokens[0], `row ${b}`);
    }
    await gen.release();
  });

  it('stops at eos and at stop sequences; sampling is reproducible by seed', async () => {
    const model = DecoderModel.fromDir(join(FIXTURES, 'llama-tiny'));
    const ref = readReference(join(FIXTURES, 'llama-tiny', 'reference.safetensors'));
    const prompt = ref.get('greedy_prompt')!.ints!;
    const gen = await Generator.create(model);
    // greedy continues 161, 86, 45, ...: declaring 45 an eos stops after three tokens
    const r = await gen.generate([prompt], { maxNewTokens: 8, eosTokenIds: [45] });
    assert.deepEqual(r.tokens[0], [161, 86, 45]);
    assert.equal(r.finish[0], 'eos');
    const decode = (ids: number[]) => ids.map((i) => `<${i}>`).join('');
    const s = await gen.generate([prompt], { maxNewTokens: 8, eosTokenIds: [], stop: ['<45>'], decode });
    assert.equal(s.text![0], '<161><86>');
    assert.equal(s.finish[0], 'stop');
    const opts = { maxNewTokens: 8, eosTokenIds: [], temperature: 1.5, topP: 0.9, seed: 7 };
    const a = await gen.generate([prompt, prompt], opts);
    const b = await gen.generate([prompt, prompt], opts);
    assert.deepEqual(a.tokens, b.tokens);
    const c = await gen.generate([prompt, prompt], { ...opts, seed: 8 });
    assert.notDeepEqual(a.tokens, c.tokens);
    await gen.release();
  });

  it('top-p keeps only the nucleus', () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    const rnd = seededRandom(1);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(sampleToken(logits, 0, 4, { temperature: 1, topP: 0.75 }, rnd));
    assert.deepEqual([...seen].sort(), [0, 1]);
  });
});
