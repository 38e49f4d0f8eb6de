import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { adamw, gradients } from '@emoverse/autograd';
import { GraphBuilder } from '@emoverse/onnx';
import { lossFeeds } from './private/batch.js';
import { buildLm, DecoderModel } from './private/lm.js';
import { loraTensors } from './private/lora.js';
import { readPeftAdapter } from './private/peft.js';
import { f32, GraphSession } from './private/session.js';
import { FIXTURES, maxAbs, maxAbsDiff, readReference, rows } from './private/test-support.js';
import { LmTrainer } from './private/train.js';

const tmp = mkdtempSync(join(tmpdir(), 'train-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const PEFT = 'base_model.model.';

function fixtureBatch(name: string) {
  const ref = readReference(join(FIXTURES, name, 'reference.safetensors'));
  const step = readReference(join(FIXTURES, name, 'lora', 'step.safetensors'));
  return {
    inputIds: rows(ref.get('input_ids')!.ints!, 12),
    labels: rows(step.get('labels')!.ints!, 12),
    loss: step.get('loss')!.data[0],
  };
}

describe('LoRA training matches PyTorch + PEFT', () => {
  for (const name of ['llama-tiny', 'phi3-tiny', 'qwen2-tiny']) {
    it(`${name}: loss and every LoRA gradient within 1e-5 relative (the README claims 5e-6)`, async () => {
      const dir = join(FIXTURES, name);
      const model = DecoderModel.fromDir(dir);
      const adapter = readPeftAdapter(join(dir, 'lora'));
      const g = new GraphBuilder('lora-grads');
      const r = buildLm(g, model, {
        loss: true,
        logits: 'none',
        training: true,
        lora: { settings: adapter.settings, trainable: true },
      });
      const wrt = r.trainable.map((t) => g.inputs.find((i) => i.name === t.name)!);
      gradients(g, r.loss!, wrt).forEach((t, i) => {
        g.output(t, `grad:${wrt[i].name}`);
      });
      g.output(r.loss!, 'loss');
      const batch = fixtureBatch(name);
      const { feeds } = lossFeeds(batch, 0);
      for (const [n, t] of loraTensors(adapter)) feeds[n] = f32(t.data, t.shape);
      const s = await GraphSession.create(g);
      const out = await s.run(feeds);
      await s.release();
      const loss = (out.loss.data as Float32Array)[0];
      const lossRel = Math.abs(loss - batch.loss) / Math.abs(batch.loss);
      assert.ok(lossRel <= 1e-5, `loss ${loss} vs ${batch.loss}`);
      const ref = readReference(join(dir, 'lora', 'grads.safetensors'));
      assert.equal(wrt.length, ref.size);
      let worst = 0;
      for (const t of wrt) {
        const expected = ref.get(PEFT + t.name)!.data;
        const rel = maxAbsDiff(out[`grad:${t.name}`].data as Float32Array, expected) / maxAbs(expected);
        worst = Math.max(worst, rel);
        assert.ok(rel < 1e-5, `${t.name}: relative error ${rel}`);
      }
      console.log(
        `${name} LoRA grads: ${wrt.length} tensors, worst relative error ${worst.toExponential(2)}; loss relative error ${lossRel.toExponential(2)}`,
      );
    });

    it(`${name}: one AdamW step (lr 1e-3, wd 0.01) matches torch.optim.AdamW; the adapter saves as PEFT`, async () => {
      const dir = join(FIXTURES, name);
      const model = DecoderModel.fromDir(dir);
      const adapter = readPeftAdapter(join(dir, 'lora'));
      const trainer = await LmTrainer.create(model, {
        lora: adapter,
        optimizer: adamw({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }),
      });
      const batch = fixtureBatch(name);
      const res = await trainer.step(batch);
      assert.ok(Math.abs(res.loss - batch.loss) <= 1e-4 * batch.loss);
      assert.equal(res.exampleLoss.length, 2);
      const after1 = readReference(join(dir, 'lora', 'adamw_after_1_step.safetensors'));
      const params = await trainer.parameters();
      let worst = 0;
      for (const [n, v] of params) {
        const expected = after1.get(PEFT + n)!.data;
        const rel = maxAbsDiff(v, expected) / maxAbs(expected);
        worst = Math.max(worst, rel);
        assert.ok(rel < 1e-4, `${n}: relative error ${rel}`);
      }
      console.log(`${name} AdamW step: worst relative error ${worst.toExponential(2)}`);
      const out = join(tmp, name);
      await trainer.savePeft(out);
      const back = readPeftAdapter(out);
      const q = [...back.modules.keys()][0];
      assert.deepEqual(back.modules.get(q)!.A, params.get(`${q}.lora_A.weight`));
      await trainer.release();
    });
  }
});
