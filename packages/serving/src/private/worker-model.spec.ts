import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sharedDir } from '@emoverse/testing';
import { EMOVERSE_MODEL_MODULE, type EmoVerseModelOptions } from './emoverse-model.js';
import { ServingError } from './errors.js';
import { WorkerTaskModel } from './worker-model.js';

const fixture = new URL('./keyword-model.fixture.ts', import.meta.url).href;

describe('WorkerTaskModel', () => {
  it('runs a TaskModel in a worker thread: scoring, streamed generation, adapters', async () => {
    const m = await WorkerTaskModel.start(fixture, { name: 'w1' });
    try {
      const scores = await m.scoreAnswers(
        [{ prompt: "The person says: 'pure joy'" }, { prompt: "The person says: 'anger'" }],
        ['Joy.', 'Anger.'],
      );
      assert.deepEqual(scores, [
        [0, -3],
        [-3, 0],
      ]);
      const pieces: string[] = [];
      const gens = await m.generate([{ prompt: 'x', visual: [Float32Array.of(1, 2)] }], {
        maxNewTokens: 8,
        onToken: (i, p) => pieces.push(`${i}:${p}`),
      });
      assert.equal(gens[0].text, 'w1 says hello');
      assert.deepEqual(pieces, ['0:w1', '0: says', '0: hello']);
      assert.equal(await m.loadAdapter('fer-lora'), true);
      assert.equal(await m.loadAdapter('nope'), false);
    } finally {
      await m.dispose();
    }
    await assert.rejects(
      m.scoreAnswers([{ prompt: 'x' }], ['A.']),
      (e: unknown) => e instanceof ServingError && e.code === 'UNAVAILABLE',
    );
  });

  it('a cancelled generation stops in the worker at the next decode step and frees its sequence', async () => {
    const m = await WorkerTaskModel.start(EMOVERSE_MODEL_MODULE, {
      nano: {
        seed: 3,
        corpusFiles: [join(sharedDir(), 'data/m2se_format/meld_dev_er_sample.json')],
        vocabSize: 400,
      },
    } satisfies EmoVerseModelOptions);
    try {
      const ac = new AbortController();
      let pieces = 0;
      // a fresh nano never says eos on purpose: without the cancel it would write all 400 tokens
      const [g] = await m.generate([{ prompt: 'Tell me a long story.' }], {
        maxNewTokens: 400,
        signal: ac.signal,
        onToken: () => {
          if (++pieces === 2) ac.abort();
        },
      });
      assert.ok(g.generatedTokens < 40, `stopped after ${g.generatedTokens} tokens`);
      const s = await m.generationStats();
      assert.equal(s.active + s.waiting, 0);
      // the loop goes on serving
      const [next] = await m.generate([{ prompt: 'Again.' }], { maxNewTokens: 5 });
      assert.equal(next.generatedTokens, 5);
    } finally {
      await m.dispose();
    }
  });

  it('fails to start, naming the module, when it exports no createTaskModel', async () => {
    await assert.rejects(
      WorkerTaskModel.start(new URL('./errors.ts', import.meta.url).href, {}),
      /exports no createTaskModel/,
    );
  });
});
