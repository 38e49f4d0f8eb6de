import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SafetensorsFile } from '@emoverse/safetensors';
import { sharedDirForTests } from '@emoverse/safetensors/testing';
import { isTarget, loraScale, readPeftAdapter, writePeftAdapter } from './peft.js';

const fx = join(sharedDirForTests(), 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'peft-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('PEFT adapter IO', () => {
  it('reads the phi3 fused-module adapter', () => {
    const a = readPeftAdapter(join(fx, 'phi3-tiny', 'lora'));
    assert.equal(a.settings.r, 8);
    assert.equal(a.settings.alpha, 32);
    assert.deepEqual(a.settings.targetModules, ['down_proj', 'gate_up_proj', 'o_proj', 'qkv_proj']);
    assert.equal(a.modules.size, 8);
    const qkv = a.modules.get('model.layers.1.self_attn.qkv_proj')!;
    assert.equal(qkv.outFeatures, 192);
    assert.equal(qkv.inFeatures, 64);
    assert.equal(loraScale(qkv, false), 4);
    assert.equal(a.baseModelClass, 'Phi3ForCausalLM');
  });

  it('round-trips: what we write reads back identically, with the same tensor names as PEFT', () => {
    for (const m of ['llama-tiny', 'phi3-tiny', 'qwen2-tiny']) {
      const src = join(fx, m, 'lora');
      const a = readPeftAdapter(src);
      const out = join(tmp, m);
      writePeftAdapter(out, a);
      const b = readPeftAdapter(out);
      assert.deepEqual(b.settings, a.settings);
      assert.equal(b.modules.size, a.modules.size);
      for (const [k, p] of a.modules) {
        assert.deepEqual(b.modules.get(k)!.A, p.A);
        assert.deepEqual(b.modules.get(k)!.B, p.B);
      }
      const theirs = SafetensorsFile.open(join(src, 'adapter_model.safetensors'));
      const ours = SafetensorsFile.open(join(out, 'adapter_model.safetensors'));
      assert.deepEqual(ours.names().sort(), theirs.names().sort());
      for (const n of theirs.names()) assert.deepEqual(ours.info(n).shape, theirs.info(n).shape);
      theirs.close();
      ours.close();
      const cfg = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
      assert.equal(cfg.peft_type, 'LORA');
      assert.equal(cfg.lora_alpha, 32);
    }
  });

  it('matches target modules the way PEFT does (suffix of a dotted path)', () => {
    assert.ok(isTarget('model.layers.0.self_attn.q_proj', ['q_proj']));
    assert.ok(!isTarget('model.layers.0.self_attn.qkv_proj', ['q_proj']));
    assert.ok(isTarget('model.layers.3.mlp.down_proj', '.*mlp\\..*'));
  });
});
