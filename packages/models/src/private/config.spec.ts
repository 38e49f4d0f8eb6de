import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sharedDirForTests } from '@emoverse/safetensors/testing';
import { parseConfig, visionTokenCount } from './config.js';

const fx = join(sharedDirForTests(), 'fixtures');
const load = (m: string) => JSON.parse(readFileSync(join(fx, m, 'config.json'), 'utf8'));

describe('HF config.json parsing', () => {
  it('reads the three decoder fixtures', () => {
    const llama = parseConfig(load('llama-tiny'));
    assert.equal(llama.kind, 'decoder');
    if (llama.kind !== 'decoder') return;
    assert.equal(llama.arch, 'llama');
    assert.equal(llama.numKvHeads, 2);
    assert.equal(llama.headDim, 16);
    assert.equal(llama.ropeTheta, 10000);
    assert.equal(llama.qkvBias, false);
    const qwen = parseConfig(load('qwen2-tiny'));
    assert.ok(qwen.kind === 'decoder' && qwen.qkvBias && qwen.tieWordEmbeddings && qwen.rmsNormEps === 1e-6);
    const phi = parseConfig(load('phi3-tiny'));
    assert.ok(phi.kind === 'decoder' && phi.arch === 'phi3' && phi.numKvHeads === 4);
  });

  it('reads the vision fixtures and counts their tokens', () => {
    const s = parseConfig(load('siglip-vision-tiny'));
    const c = parseConfig(load('clip-vision-tiny'));
    assert.ok(s.kind === 'vision' && c.kind === 'vision');
    if (s.kind !== 'vision' || c.kind !== 'vision') return;
    assert.equal(s.hiddenAct, 'gelu_pytorch_tanh');
    assert.equal(c.hiddenAct, 'quick_gelu');
    assert.equal(visionTokenCount(s), 16);
    assert.equal(visionTokenCount(c), 17);
  });

  it('takes rope_theta from the top level in older configs', () => {
    const raw = load('llama-tiny');
    delete raw.rope_parameters;
    raw.rope_theta = 500000;
    const c = parseConfig(raw);
    assert.ok(c.kind === 'decoder' && c.ropeTheta === 500000);
  });

  it('refuses an unknown architecture, naming it and the supported ones', () => {
    assert.throws(
      () => parseConfig({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2' }),
      /unknown architecture \["GPT2LMHeadModel"\]: supported are LlamaForCausalLM.*Phi3ForCausalLM.*Qwen2ForCausalLM/,
    );
  });

  it('refuses rope scaling it does not implement and missing fields', () => {
    const raw = load('phi3-tiny');
    raw.rope_parameters = { rope_type: 'longrope', rope_theta: 10000 };
    assert.throws(() => parseConfig(raw), /rope_type longrope is not supported/);
    const raw2 = load('llama-tiny');
    delete raw2.hidden_size;
    assert.throws(() => parseConfig(raw2), /required field hidden_size is missing/);
  });
});
