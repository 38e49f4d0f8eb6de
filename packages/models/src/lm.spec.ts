import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Checkpoint, writeCheckpoint } from '@emoverse/safetensors';
import { buildLmGraph, DecoderModel } from './private/lm.js';
import { causalBias, positionIdsFromMask } from './private/masks.js';
import { f32, GraphSession, i64 } from './private/session.js';
import { FIXTURES, maxAbsDiff, readReference, rows } from './private/test-support.js';

describe('decoder logits match transformers', () => {
  for (const name of ['llama-tiny', 'phi3-tiny', 'qwen2-tiny']) {
    it(`${name}: logits [2,12,320] within 1e-5 (the README claims 7.2e-6)`, async () => {
      const model = DecoderModel.fromDir(join(FIXTURES, name));
      const ref = readReference(join(FIXTURES, name, 'reference.safetensors'));
      const ids = ref.get('input_ids')!;
      const [B, S] = ids.shape;
      const mask = rows(
        ids.ints!.map(() => 1),
        S,
      );
      const { g } = buildLmGraph(model);
      const s = await GraphSession.create(g);
      const out = await s.run({
        input_ids: i64(ids.ints!, [B, S]),
        position_ids: i64(positionIdsFromMask(mask).flat(), [B, S]),
        attention_bias: f32(causalBias(mask, S), [B, 1, 1, S, S]),
      });
      const diff = maxAbsDiff(out.logits.data as Float32Array, ref.get('logits')!.data);
      console.log(`${name} logits max abs diff ${diff.toExponential(2)}`);
      assert.ok(diff < 1e-5, `max abs diff ${diff}`);
      await s.release();
    });
  }
});

describe('weights left in the safetensors file', () => {
  it('ORT reading the tensors from the shard gives the same logits as weights copied into the graph', async () => {
    const dir = join(FIXTURES, 'qwen2-tiny');
    const model = DecoderModel.fromDir(dir);
    const ref = readReference(join(dir, 'reference.safetensors'));
    const ids = ref.get('input_ids')!;
    const [B, S] = ids.shape;
    const mask = rows(
      ids.ints!.map(() => 1),
      S,
    );
    const feeds = {
      input_ids: i64(ids.ints!, [B, S]),
      position_ids: i64(positionIdsFromMask(mask).flat(), [B, S]),
      attention_bias: f32(causalBias(mask, S), [B, 1, 1, S, S]),
    };
    const { g } = buildLmGraph(model, { weightsInFiles: true });
    assert.ok(g.fileInitializers.size >= 15, 'the weights are file initializers');
    assert.equal([...g.initializers.keys()].filter((n) => n.startsWith('model.')).length, 0);
    const s = await GraphSession.create(g);
    const out = await s.run(feeds);
    assert.ok(maxAbsDiff(out.logits.data as Float32Array, ref.get('logits')!.data) < 1e-5);
    await s.release();
  });
});

describe('sharded checkpoints', () => {
  it('a model written as HF shards with an index loads and gives the fixture logits, in memory and from the files', async () => {
    const src = join(FIXTURES, 'phi3-tiny');
    const ck = Checkpoint.open(src);
    const tensors = Object.fromEntries(
      ck
        .names()
        .map((n) => [n, { dtype: 'F32' as const, shape: ck.info(n).shape, data: ck.readF32(n).data }]),
    );
    ck.close();
    const dir = mkdtempSync(join(tmpdir(), 'sharded-'));
    try {
      const files = writeCheckpoint(dir, tensors, { maxShardBytes: 40_000 });
      assert.ok(files.length >= 3, `${files.length} shards`);
      copyFileSync(join(src, 'config.json'), join(dir, 'config.json'));
      const model = DecoderModel.fromDir(dir);
      const ref = readReference(join(src, 'reference.safetensors'));
      const ids = ref.get('input_ids')!;
      const [B, S] = ids.shape;
      const mask = rows(
        ids.ints!.map(() => 1),
        S,
      );
      for (const weightsInFiles of [false, true]) {
        const s = await GraphSession.create(buildLmGraph(model, { weightsInFiles }).g);
        const out = await s.run({
          input_ids: i64(ids.ints!, [B, S]),
          position_ids: i64(positionIdsFromMask(mask).flat(), [B, S]),
          attention_bias: f32(causalBias(mask, S), [B, 1, 1, S, S]),
        });
        assert.ok(
          maxAbsDiff(out.logits.data as Float32Array, ref.get('logits')!.data) < 1e-5,
          `weightsInFiles ${weightsInFiles}`,
        );
        await s.release();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
