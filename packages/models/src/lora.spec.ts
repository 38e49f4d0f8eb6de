import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildLmGraph, DecoderModel } from './private/lm.js';
import { initLora, mergeLora } from './private/lora.js';
import { causalBias, positionIdsFromMask } from './private/masks.js';
import { DEFAULT_LORA, readPeftAdapter } from './private/peft.js';
import { f32, GraphSession, i64 } from './private/session.js';
import { causalLmTargets, perExampleLoss } from './private/targets.js';
import { FIXTURES, maxAbsDiff, readReference, rows } from './private/test-support.js';

async function forward(
  model: DecoderModel,
  ids: number[][],
  labels: number[][],
  lora?: Parameters<typeof buildLmGraph>[1]['lora'],
) {
  const B = ids.length;
  const S = ids[0].length;
  const mask = ids.map((r) => r.map(() => 1));
  const t = causalLmTargets(labels);
  const { g } = buildLmGraph(model, { loss: true, lora });
  const s = await GraphSession.create(g);
  const out = await s.run({
    input_ids: i64(ids.flat(), [B, S]),
    position_ids: i64(positionIdsFromMask(mask).flat(), [B, S]),
    attention_bias: f32(causalBias(mask, S), [B, 1, 1, S, S]),
    labels: i64(t.labels.flat(), [B, S]),
    token_weights: f32(t.weights, [B, S]),
  });
  await s.release();
  return {
    loss: (out.loss.data as Float32Array)[0],
    logits: out.logits.data as Float32Array,
    tokenLoss: out.token_loss.data as Float32Array,
    t,
  };
}

describe('LoRA forward', () => {
  for (const name of ['llama-tiny', 'phi3-tiny', 'qwen2-tiny']) {
    it(`${name}: the PEFT adapter's loss matches PyTorch; merged weights give the same logits`, async () => {
      const dir = join(FIXTURES, name);
      const model = DecoderModel.fromDir(dir);
      const adapter = readPeftAdapter(join(dir, 'lora'));
      const ref = readReference(join(dir, 'reference.safetensors'));
      const step = readReference(join(dir, 'lora', 'step.safetensors'));
      const ids = rows(ref.get('input_ids')!.ints!, 12);
      const labels = rows(step.get('labels')!.ints!, 12);
      const withLora = await forward(model, ids, labels, {
        settings: adapter.settings,
        trainable: false,
        adapter,
      });
      const expected = step.get('loss')!.data[0];
      console.log(`${name} LoRA loss ${withLora.loss} vs ${expected}`);
      assert.ok(Math.abs(withLora.loss - expected) < 1e-4 * Math.abs(expected));
      // per-example losses average (token-weighted) back to the loss
      const per = perExampleLoss(withLora.tokenLoss, withLora.t);
      const n = withLora.t.counts;
      assert.ok(Math.abs((per[0] * n[0] + per[1] * n[1]) / (n[0] + n[1]) - withLora.loss) < 1e-5);
      const merged = new DecoderModel(model.config, mergeLora(model.weights, adapter));
      const m = await forward(merged, ids, labels);
      assert.ok(maxAbsDiff(m.logits, withLora.logits) < 1e-4);
      assert.ok(Math.abs(m.loss - withLora.loss) < 1e-5);
      const base = await forward(model, ids, labels);
      assert.ok(Math.abs(base.loss - withLora.loss) > 1e-3, 'the adapter changes the model');
    });
  }

  it('a fresh adapter (B = 0) leaves the model unchanged; default r=8, alpha=32', async () => {
    const model = DecoderModel.fromDir(join(FIXTURES, 'phi3-tiny'));
    const settings = { ...DEFAULT_LORA, targetModules: ['qkv_proj', 'gate_up_proj'] };
    const adapter = initLora(model, settings, 1);
    assert.equal(adapter.modules.size, 4);
    assert.equal(adapter.modules.get('model.layers.0.self_attn.qkv_proj')!.r, 8);
    const ids = [[5, 6, 7, 8, 9]];
    const a = await forward(model, ids, ids, { settings, trainable: false, adapter });
    const b = await forward(model, ids, ids);
    assert.ok(maxAbsDiff(a.logits, b.logits) < 1e-6);
    assert.throws(
      () => initLora(model, { ...settings, targetModules: ['nothing'] }),
      /no linear module matches/,
    );
  });
});
