// The loop on the real engine: packages/models' LmTrainer (ONNX Runtime, CPU EP) on the llama-tiny
// fixture with LoRA, gradient accumulation over short groups, and a crash + resume.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { DecoderModel, LmTrainer } from '@emoverse/models';
import { validateRecipe } from '../recipe.js';
import { byteTokenizer } from './bigram-engine.js';
import { DirectoryCheckpointStore } from './checkpoint-store.js';
import { encodeExample } from './encode.js';
import type { TrainBatch, TrainEngine } from './engine.js';
import { toyExamples } from './fixtures.js';
import { lmTrainerEngine } from './lm-trainer-engine.js';
import { type StepLog, train } from './loop.js';

const shared = process.env.EMOVERSE_SHARED
  ? resolve(process.env.EMOVERSE_SHARED)
  : resolve(import.meta.dirname, '../../../../../../shared');
const llamaTiny = join(shared, 'fixtures/llama-tiny');
const tmp = mkdtempSync(join(tmpdir(), 'm2se-lm-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const recipe = validateRecipe({
  name: 'tiny-lm',
  seed: 5,
  model: { base: 'llama-tiny' },
  lora: { r: 8, alpha: 32, dropout: 0, targets: ['q_proj', 'v_proj'] },
  optimizer: { lr: 5e-3 },
  schedule: { warmupSteps: 1 },
  // 7 samples / 2 = 4 micro-batches / 3 = 2 steps per epoch, the second one short (1 micro-batch)
  batch: { size: 2, gradAccumulation: 3, maxSeqLen: 48 },
  lossWeighting: { mode: 'dwa', temperature: 2, period: 1 },
  data: { shards: ['*.jsonl'] },
  stages: [
    { name: 'pre', epochs: 2, samples: 7, tasks: { MSA: 0.5, ER: 0.5 } },
    { name: 'reason', epochs: 1, samples: 6, tasks: { ER: 0.5, ECPE: 0.5 } },
  ],
});

async function engine(): Promise<{ engine: TrainEngine; release: () => Promise<void> }> {
  const trainer = await LmTrainer.create(DecoderModel.fromDir(llamaTiny), {
    lora: { r: 8, alpha: 32, dropout: 0, targetModules: ['q_proj', 'v_proj'] },
    microBatches: recipe.batch.gradAccumulation,
    seed: 1,
  });
  return { engine: lmTrainerEngine(trainer), release: () => trainer.release() };
}

const options = {
  recipe,
  examples: toyExamples(12),
  encode: (ex: Parameters<typeof encodeExample>[1]) =>
    encodeExample(byteTokenizer, ex, { maxSeqLen: recipe.batch.maxSeqLen }),
  padId: 0,
};
const curve = (h: StepLog[]) => h.map((s) => [s.globalStep, s.lr, s.losses, s.weights]);

describe('training on the engine (LmTrainer, llama-tiny, LoRA)', () => {
  it('trains, and resumes after a crash with the same loss curve', async () => {
    const a = await engine();
    const reference = await train({ ...options, engine: a.engine });
    await a.release();
    assert.equal(reference.totalSteps, 2 * 2 + 1);
    const first = Object.values(reference.history[0].losses)[0] as number;
    assert.ok(Number.isFinite(first) && first > 1, `a real cross-entropy: ${first}`);
    const stage1 = reference.history.filter((s) => s.stage === 0);
    assert.ok(stage1[3].loss < stage1[0].loss, `loss fell: ${stage1.map((s) => s.loss.toFixed(3))}`);

    const store = new DirectoryCheckpointStore(join(tmp, 'run'));
    const b = await engine();
    let calls = 0;
    const crashing: TrainEngine = {
      ...b.engine,
      microStep: (batch: TrainBatch) => {
        if (++calls === 6) throw new Error('simulated crash'); // in step 3, after the checkpoint of step 2
        return b.engine.microStep(batch);
      },
    };
    await assert.rejects(
      train({ ...options, engine: crashing, store, checkpointEvery: 2 }),
      /simulated crash/,
    );
    await b.release();
    assert.equal((await store.latest())?.step, 2);
    const c = await engine();
    const resumed = await train({ ...options, engine: c.engine, store, checkpointEvery: 2 });
    await c.release();
    assert.equal(resumed.resumedFrom, 2);
    assert.deepEqual(curve(resumed.history), curve(reference.history));
  });
});
