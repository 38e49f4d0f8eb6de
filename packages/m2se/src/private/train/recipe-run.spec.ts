// A whole recipe (LM pre-training, then LoRA stages) on a fresh emoverse-nano, with a stop and resume.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EmoVerseLM } from '@emoverse/models';
import { validateRecipe } from '../recipe.js';
import { DirectoryCheckpointStore } from './checkpoint-store.js';
import { toyExamples } from './fixtures.js';
import type { StepLog } from './loop.js';
import { lmTrainerOptions, trainRecipe } from './recipe-run.js';

const tmp = mkdtempSync(join(tmpdir(), 'm2se-recipe-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const recipe = validateRecipe({
  name: 'nano-toy',
  seed: 2,
  model: { base: 'emoverse-nano' },
  lora: { r: 4, alpha: 16, dropout: 0, targets: ['q_proj', 'v_proj'] },
  optimizer: { lr: 2e-3, weightDecay: 0 },
  schedule: { warmupSteps: 1 },
  batch: { size: 4, gradAccumulation: 1, maxSeqLen: 64 },
  lossWeighting: { mode: 'uncertainty', ema: 0.5 },
  data: { shards: ['*.jsonl'] },
  pretraining: { epochs: 1, samples: 8, lr: 5e-3 },
  stages: [
    { name: 'multitask-pretraining', epochs: 1, samples: 8, tasks: { MSA: 0.5, ER: 0.5 } },
    { name: 'multitask-reasoning-finetuning', epochs: 1, samples: 8, tasks: { ER: 0.5, ECPE: 0.5 } },
  ],
});
const examples = toyExamples(8);
const { MSA, ER, ECPE } = examples;
const data = { MSA, ER, ECPE };
const corpus = [...MSA!, ...ER!, ...ECPE!].flatMap((e) => [e.query, e.response]);
const nano = () => EmoVerseLM.createNano({ corpus, vocabSize: 400, seed: 7 });
const curve = (h: StepLog[]) => h.map((s) => [s.globalStep, s.lr, s.losses, s.weights]);

describe('trainRecipe on emoverse-nano', () => {
  it('maps the recipe to trainer options per phase', () => {
    const pre = lmTrainerOptions(recipe, 'pretraining');
    assert.deepEqual(
      [pre.lora, pre.trainBase, pre.trainProjector, pre.optimizer.lr],
      [false, true, false, 5e-3],
    );
    const st = lmTrainerOptions(recipe, 'stages');
    assert.deepEqual(st.lora, { r: 4, alpha: 16, dropout: 0, targetModules: ['q_proj', 'v_proj'] });
    assert.deepEqual(
      [st.trainBase, st.trainProjector, st.optimizer.lr, st.microBatches],
      [false, true, 2e-3, 1],
    );
  });

  it('pre-trains, trains the stages with LoRA, and resumes a stopped run to the same curve', async () => {
    const model = nano();
    const reference = await trainRecipe({ recipe, model, examples: data });
    assert.ok(reference.completed);
    assert.equal(reference.pretraining?.history.length, 2);
    assert.equal(reference.stages?.history.length, 4);
    const name = 'model.layers.0.self_attn.q_proj.weight';
    assert.notDeepEqual(
      reference.base.llm.weights.readF32(name),
      model.llm.weights.readF32(name),
      'pre-training changed the base',
    );
    const params = await reference.trainer!.parameters();
    assert.ok(
      [...params.keys()].some((k) => k.includes('lora_A')),
      'LoRA is trained in the stages',
    );
    assert.ok(params.has('projector.weight'), 'and the projector');
    await reference.trainer!.release();

    const stores = {
      pretraining: new DirectoryCheckpointStore(join(tmp, 'pre')),
      stages: new DirectoryCheckpointStore(join(tmp, 'stages')),
    };
    const part = await trainRecipe({ recipe, model: nano(), examples: data, stores, stopAfterStep: 3 });
    assert.equal(part.completed, false);
    assert.equal(part.stages?.steps, 1, 'two pre-training steps and one stage step');
    await part.trainer?.release();
    const rest = await trainRecipe({ recipe, model: nano(), examples: data, stores });
    assert.ok(rest.completed);
    assert.equal(rest.pretraining?.resumedFrom, 2, 'pre-training was already done');
    assert.equal(rest.stages?.resumedFrom, 1);
    assert.deepEqual(curve(rest.pretraining!.history), curve(reference.pretraining!.history));
    assert.deepEqual(curve(rest.stages!.history), curve(reference.stages!.history));
    await rest.trainer!.release();
  });
});
