import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { f32, GraphSession } from './private/session.js';
import { FIXTURES, maxAbsDiff, readReference } from './private/test-support.js';
import { VisionModel } from './private/vision.js';

describe('vision towers match transformers', () => {
  for (const name of ['siglip-vision-tiny', 'clip-vision-tiny']) {
    it(`${name}: last_hidden_state, penultimate and pooler_output within 5e-6 (the README claims 2.9e-6)`, async () => {
      const model = VisionModel.fromDir(join(FIXTURES, name));
      const ref = readReference(join(FIXTURES, name, 'reference.safetensors'));
      const px = ref.get('pixel_values')!;
      const s = await GraphSession.create(model.buildGraph());
      const out = await s.run({ pixel_values: f32(px.data, px.shape) });
      for (const k of ['last_hidden_state', 'penultimate_hidden_state', 'pooler_output']) {
        assert.deepEqual(out[k].dims, ref.get(k)!.shape, k);
        const d = maxAbsDiff(out[k].data as Float32Array, ref.get(k)!.data);
        console.log(`${name} ${k} max abs diff ${d.toExponential(2)}`);
        assert.ok(d < 5e-6, `${k}: ${d}`);
      }
      await s.release();
    });
  }
});
