import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { adamw } from '@emoverse/autograd';
import { faceFrameFeatures } from '@emoverse/models';
import { sharedDir } from '@emoverse/testing';
import {
  createTaskModel,
  EMOVERSE_MODEL_MODULE,
  type EmoVerseModelOptions,
  loadBase,
} from './emoverse-model.js';
import { loadedModel, TaskEngine } from './engine.js';
import { ModelHolder } from './model-holder.js';
import { EMOTION_LABELS, emotionPrompt, labelAnswer } from './prompts.js';
import { WorkerTaskModel } from './worker-model.js';

const tmp = mkdtempSync(join(tmpdir(), 'gateway-model-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const corpusFiles = [join(sharedDir(), 'data/m2se_format/meld_dev_er_sample.json')];
const nano: EmoVerseModelOptions = {
  nano: { seed: 7, corpusFiles, vocabSize: 512 },
  adapterDir: join(tmp, 'adapters'),
};
const answers = EMOTION_LABELS.map(labelAnswer);
/** One frame's face features with every AU at `au`. */
const frame = (au: number) =>
  faceFrameFeatures({
    aus: new Array(17).fill(au),
    expressions: new Array(7).fill(1 / 7),
    descriptor: new Array(128).fill(0.1),
  });

describe('EmoVerseTaskModel (emoverse-nano)', () => {
  it('scores every label, generates, and loads PEFT adapters by name', async () => {
    // A LoRA adapter trained one step on this very base, saved in PEFT format as <adapterDir>/fer.
    const lm = loadBase(nano);
    const trainer = await lm.trainer({
      lora: { r: 8, alpha: 32 },
      optimizer: adamw({ lr: 5e-2, weightDecay: 0 }),
    });
    await trainer.step(lm.trainBatch([{ prompt: emotionPrompt('Oh my God!'), answer: 'Joy.' }]));
    await trainer.savePeft(join(tmp, 'adapters', 'fer'));
    await trainer.release();
    await lm.release();

    const model = await createTaskModel(nano);
    try {
      const inputs = [
        { prompt: emotionPrompt('Oh my God!') },
        { prompt: emotionPrompt('Fine.'), visual: [frame(0.5), frame(2)] },
      ];
      const scores = await model.scoreAnswers(inputs, answers);
      assert.equal(scores.length, 2);
      assert.ok(scores.every((row) => row.length === 7 && row.every((x) => Number.isFinite(x) && x < 0)));
      assert.notDeepEqual(scores[0], scores[1]);
      const pieces: string[][] = [[], []];
      const gens = await model.generate(inputs, { maxNewTokens: 12, onToken: (i, p) => pieces[i].push(p) });
      assert.equal(gens.length, 2);
      assert.ok(gens.every((g) => g.generatedTokens <= 12 && g.promptTokens > 10));
      // Streamed as generated: the pieces of each row add up to its answer.
      gens.forEach((g, i) => {
        assert.equal(pieces[i].join(''), g.text);
      });
      assert.ok(
        pieces.some((p) => p.length > 1),
        `streamed in several pieces: ${JSON.stringify(pieces)}`,
      );

      // A prompt longer than the model's 512 positions loses its start, not the instruction.
      const long = [{ prompt: `${'Ross: blah blah blah. '.repeat(300)}${emotionPrompt('What?')}` }];
      assert.equal((await model.scoreAnswers(long, answers))[0].length, 7);
      assert.ok((await model.generate(long, { maxNewTokens: 4 }))[0].promptTokens <= 512 - 5);

      assert.equal(await model.loadAdapter('missing'), false);
      assert.equal(await model.loadAdapter('fer'), true);
      const adapted = await model.scoreAnswers(inputs, answers, 'fer');
      assert.notDeepEqual(adapted[0], scores[0], 'the adapter changes the scores');
      await model.unloadAdapter('fer');
      await assert.rejects(
        model.scoreAnswers([{ prompt: 'x', visual: [Float32Array.of(1, 2, 3)] }], answers),
        /3 values per frame; the model takes 152/,
      );
    } finally {
      await model.dispose();
    }
  });

  it('serves ER through the task engine with the model in a worker thread', async () => {
    const holder = new ModelHolder({
      load: async () => loadedModel(await WorkerTaskModel.start(EMOVERSE_MODEL_MODULE, nano), 2),
      dispose: (m) => m.model.dispose(),
    });
    const engine = new TaskEngine(holder, { maxBatchSize: 8, maxWaitMs: 5, maxQueue: 32 });
    try {
      await holder.load('nano-7');
      const results = await Promise.all(
        ['Oh my God!', 'What?', 'I love it.'].map((text) => engine.emotion({ text })),
      );
      for (const r of results) {
        assert.ok((EMOTION_LABELS as readonly string[]).includes(r.label!));
        assert.equal(r.modelVersion, 'nano-7');
      }
      await assert.rejects(engine.emotion({ text: 'x', adapter: 'nope' }), /unknown adapter 'nope'/);
      assert.equal((await engine.emotion({ text: 'Oh my God!', adapter: 'fer' })).modelVersion, 'nano-7');
    } finally {
      engine.close();
      await holder.close();
    }
  });
});
