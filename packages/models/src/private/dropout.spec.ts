import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { adamw } from '@emoverse/autograd';
import { GraphBuilder } from '@emoverse/onnx';
import { DROPOUT_SEED, dropoutSeed, hash32, keepsElement, seededDropout } from './dropout.js';
import { DecoderModel } from './lm.js';
import { f32, GraphSession } from './session.js';
import { FIXTURES, readReference, rows } from './test-support.js';
import { LmTrainer, type LmTrainerState } from './train.js';

describe('seeded LoRA dropout: the mask in the graph', () => {
  it('is the hash the trainer documents: same (seed, module, position) -> same keep decision', async () => {
    const g = new GraphBuilder('dropout');
    const x = g.input('x', 'float32', ['batch', 'seq', 16]);
    const seed = g.input(DROPOUT_SEED, 'int64', []);
    const path = 'model.layers.0.self_attn.q_proj';
    g.output(seededDropout(g, x, 0.25, seed, path), 'y');
    const s = await GraphSession.create(g);
    const dims = [3, 50, 16];
    const ones = f32(new Float32Array(3 * 50 * 16).fill(1), dims);
    const run = async (v: number) =>
      (
        await s.run({
          x: ones,
          [DROPOUT_SEED]: { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(v)) },
        })
      ).y.data as Float32Array;
    const a = await run(123456789);
    const again = await run(123456789);
    const other = await run(987654321);
    await s.release();
    assert.deepEqual(Array.from(a), Array.from(again));
    let kept = 0;
    let differs = 0;
    for (let i = 0; i < a.length; i++) {
      const keep = keepsElement(123456789, path, i, 0.25);
      // kept values are scaled by 1 / (1 - rate)
      assert.equal(a[i], keep ? Math.fround(1 / 0.75) : 0, `element ${i}`);
      if (keep) kept++;
      if (a[i] !== other[i]) differs++;
    }
    const rate = 1 - kept / a.length;
    assert.ok(rate > 0.2 && rate < 0.3, `dropped ${rate} of the elements, expected about 0.25`);
    assert.ok(differs > a.length * 0.2, `another seed changed only ${differs} of ${a.length} decisions`);
  });

  it('hash32 is a 32-bit bijection-style mixer; dropoutSeed depends on seed and micro-batch', () => {
    assert.equal(hash32(0), 0);
    assert.notEqual(hash32(1), hash32(2));
    for (const v of [1, 2, 0xffffffff, 123456789]) assert.ok(hash32(v) >= 0 && hash32(v) < 2 ** 32);
    const seeds = new Set<number>();
    for (const s of [0, 1, 2]) for (let c = 0; c < 50; c++) seeds.add(dropoutSeed(s, c));
    assert.equal(seeds.size, 150);
    assert.equal(dropoutSeed(7, 3), dropoutSeed(7, 3));
  });
});

describe('seeded LoRA dropout: training runs are reproducible (llama-tiny, dropout 0.05)', () => {
  const dir = join(FIXTURES, 'llama-tiny');
  const ref = readReference(join(dir, 'reference.safetensors'));
  const inputIds = rows(ref.get('input_ids')!.ints!, 12);
  const batch = { inputIds, labels: inputIds };
  const STEPS = 4;
  const STOP = 2;

  const trainer = (seed: number) =>
    LmTrainer.create(DecoderModel.fromDir(dir), {
      lora: {
        r: 8,
        alpha: 32,
        dropout: 0.05,
        targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'up_proj'],
      },
      optimizer: adamw({ lr: 1e-2 }),
      seed,
    });
  const run = async (seed: number, from = 0, state?: LmTrainerState) => {
    const t = await trainer(seed);
    if (state) await t.loadState(state);
    const losses: number[] = [];
    for (let i = from; i < STEPS; i++) losses.push((await t.step(batch)).loss);
    await t.release();
    return losses;
  };

  it('same seed -> identical losses; resumed after step k -> the uninterrupted curve; other seed -> other curve', async () => {
    const a = await run(11);
    const b = await run(11);
    assert.equal(a.length, STEPS);
    assert.deepEqual(b, a, 'two runs with the same seed');

    // stop after STOP steps, save, and continue in a fresh trainer (as after a restart)
    const first = await trainer(11);
    const head: number[] = [];
    for (let i = 0; i < STOP; i++) head.push((await first.step(batch)).loss);
    const state = await first.saveState();
    await first.release();
    const tail = await run(11, STOP, state);
    assert.deepEqual([...head, ...tail], a, 'resumed run vs the uninterrupted one');

    const c = await run(12);
    // B starts at zero, so step 1 does not see the mask; from step 2 on the masks matter
    assert.notDeepEqual(c.slice(1), a.slice(1), 'another seed draws other masks');
    assert.ok(a.every(Number.isFinite) && c.every(Number.isFinite));
  });

  it('an explicit dropoutSeed per step replaces the derived one', async () => {
    const explicit = async () => {
      const t = await trainer(11);
      const l: number[] = [];
      for (let i = 0; i < 3; i++) l.push((await t.step(batch, { dropoutSeed: 1000 + i })).loss);
      await t.release();
      return l;
    };
    const a = await explicit();
    assert.deepEqual(await explicit(), a);
    const derived = await run(11);
    assert.notDeepEqual(derived.slice(1, 3), a.slice(1));
  });
});
