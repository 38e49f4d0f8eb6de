import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

  it('fails to start, naming the module, when it exports no createTaskModel', async () => {
    await assert.rejects(
      WorkerTaskModel.start(new URL('./errors.ts', import.meta.url).href, {}),
      /exports no createTaskModel/,
    );
  });
});
