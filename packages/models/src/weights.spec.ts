import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Checkpoint, writeSafetensors } from '@emoverse/safetensors';
import { parseConfig } from './private/config.js';
import { DecoderModel } from './private/lm.js';
import { FIXTURES } from './private/test-support.js';
import { mapSource } from './private/weights.js';

const tmp = mkdtempSync(join(tmpdir(), 'weights-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function allTensors(dir: string) {
  const ck = Checkpoint.open(dir);
  const m = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const n of ck.names()) m.set(n, ck.readF32(n));
  ck.close();
  return m;
}

describe('bad checkpoints fail before any compute, naming the tensor', () => {
  const cfg = parseConfig(JSON.parse(readFileSync(join(FIXTURES, 'llama-tiny', 'config.json'), 'utf8')));
  if (cfg.kind !== 'decoder') throw new Error('fixture');

  it('a missing tensor', () => {
    const m = allTensors(join(FIXTURES, 'llama-tiny'));
    m.delete('model.layers.1.mlp.up_proj.weight');
    assert.throws(
      () => new DecoderModel(cfg, mapSource(m)),
      /missing tensor model\.layers\.1\.mlp\.up_proj\.weight \(expected shape \[96,64\]\)/,
    );
  });

  it('a shape that does not match the config', () => {
    const m = allTensors(join(FIXTURES, 'llama-tiny'));
    m.set('model.layers.0.self_attn.k_proj.weight', { shape: [64, 64], data: new Float32Array(64 * 64) });
    assert.throws(
      () => new DecoderModel(cfg, mapSource(m)),
      /tensor model\.layers\.0\.self_attn\.k_proj\.weight has shape \[64,64\] but the config implies \[32,64\]/,
    );
  });

  it('a config that disagrees with the checkpoint (from a folder)', () => {
    const raw = JSON.parse(readFileSync(join(FIXTURES, 'llama-tiny', 'config.json'), 'utf8'));
    raw.intermediate_size = 128;
    const dir = join(tmp, 'wrong');
    const m = allTensors(join(FIXTURES, 'llama-tiny'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(raw));
    writeSafetensors(
      join(dir, 'model.safetensors'),
      Object.fromEntries(
        [...m].map(([k, v]) => [k, { dtype: 'F32' as const, shape: v.shape, data: v.data }]),
      ),
    );
    assert.throws(
      () => DecoderModel.fromDir(dir),
      /mlp\.down_proj\.weight has shape \[64,96\] but the config implies \[64,128\]/,
    );
    // and the tied-embedding check: qwen2 without lm_head is fine, llama without it is not
    m.delete('lm_head.weight');
    assert.throws(() => new DecoderModel(cfg, mapSource(m)), /missing tensor lm_head\.weight/);
    assert.doesNotThrow(() => new DecoderModel({ ...cfg, tieWordEmbeddings: true }, mapSource(m)));
  });
});
