import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { causesOf, type LoadedModel, loadedModel, TaskEngine } from './engine.js';
import { ServingError } from './errors.js';
import { KeywordModel } from './keyword-model.fixture.js';
import { ModelHolder } from './model-holder.js';
import { EMOTION_LABELS } from './prompts.js';

function setup(opts: { maxQueue?: number; maxBatchSize?: number } = {}) {
  const models: KeywordModel[] = [];
  const holder = new ModelHolder<LoadedModel>({
    load: async (version) => {
      const m = new KeywordModel(version);
      models.push(m);
      return loadedModel(m, 2);
    },
    dispose: (lm) => lm.model.dispose(),
  });
  const sizes: number[] = [];
  const engine = new TaskEngine(holder, {
    maxBatchSize: opts.maxBatchSize ?? 8,
    maxWaitMs: 2,
    maxQueue: opts.maxQueue ?? 64,
    onBatch: (_kind, info) => sizes.push(info.size),
  });
  return { holder, engine, models, sizes };
}

describe('TaskEngine', () => {
  it('is not ready before a model is loaded, and answers UNAVAILABLE', async () => {
    const { engine } = setup();
    assert.equal(engine.ready, false);
    await assert.rejects(
      engine.emotion({ text: 'hi' }),
      (e: unknown) => e instanceof ServingError && e.code === 'UNAVAILABLE',
    );
  });

  it('classifies by scoring every label: a valid label, probabilities and the answer text', async () => {
    const { holder, engine } = setup();
    await holder.load('v1');
    const r = await engine.emotion({ text: 'I feel such joy today' });
    assert.equal(r.label, 'joy');
    assert.equal(r.text, 'Joy.');
    assert.equal(r.modelVersion, 'v1');
    assert.deepEqual(
      r.probabilities?.map((p) => p.label),
      [...EMOTION_LABELS],
    );
    assert.ok(Math.abs(r.probabilities!.reduce((s, p) => s + p.probability, 0) - 1) < 1e-9);
    const s = await engine.sentiment({ text: 'so negative' });
    assert.equal(s.label, 'negative');
  });

  it('batches concurrent requests into one model call', async () => {
    const { holder, engine, models, sizes } = setup({ maxBatchSize: 8 });
    await holder.load('v1');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => engine.emotion({ text: `anger ${i}` })),
    );
    assert.ok(results.every((r) => r.label === 'anger'));
    assert.deepEqual(sizes, [8]);
    assert.deepEqual(models[0].batches, [{ kind: 'score', size: 8, adapter: undefined }]);
  });

  it('generates for FER, ERI and ECPE, parsing ECPE pairs', async () => {
    const { holder, engine } = setup();
    await holder.load('v1');
    assert.equal((await engine.facialExpression({ text: 'hm' })).text, 'v1 says hello');
    assert.equal((await engine.emotionReason({ text: 'hm', emotion: 'joy' })).text, 'Joy. v1 says hello');
    assert.equal((await engine.emotionReason({ text: 'hm' })).text, 'v1 says hello');
    const r = await engine.emotionCausePairs({
      conversation: [
        { speaker: 'A', text: 'x', emotion: 'neutral' },
        { speaker: 'B', text: 'y', emotion: 'neutral' },
        { speaker: 'C', text: 'z', emotion: 'joy' },
      ],
      target: 3,
    });
    assert.deepEqual(r.pairs, [
      { emotionUtt: 3, emotion: 'joy', causeUtt: 3 },
      { emotionUtt: 3, emotion: 'joy', causeUtt: 1 },
    ]);
  });

  it("answers ECPE with the request's target and emotion, keeping only the causes the model names within 1..target", () => {
    assert.deepEqual(causesOf('4_surprise,3;4_surprise,4;4', 4), [3, 4]);
    assert.deepEqual(causesOf('4_joy,4;4_joy,4;4_joy,7;2_joy,1;4_joy,0', 4), [4]);
    assert.deepEqual(causesOf('', 4), []);
  });

  it('streams generated pieces that add up to the answer', async () => {
    const { holder, engine } = setup();
    await holder.load('v1');
    const pieces: string[] = [];
    const r = await engine.generate({ prompt: 'Tell me', maxNewTokens: 10 }, {}, (p) => pieces.push(p));
    assert.deepEqual(pieces, ['v1', ' says', ' hello']);
    assert.equal(pieces.join(''), r.text);
  });

  it('routes a named adapter to the model, and refuses an unknown one with NOT_FOUND before queueing', async () => {
    const { holder, engine, models } = setup();
    await holder.load('v1');
    await engine.emotion({ text: 'joy', adapter: 'fer-lora' });
    assert.equal(models[0].batches.at(-1)?.adapter, 'fer-lora');
    const before = models[0].batches.length;
    await assert.rejects(engine.emotion({ text: 'joy', adapter: 'nope' }), (e: unknown) => {
      assert.ok(e instanceof ServingError);
      assert.equal(e.code, 'NOT_FOUND');
      assert.match(e.message, /unknown adapter 'nope'/);
      return true;
    });
    assert.equal(models[0].batches.length, before);
  });

  it('hot-swaps the model under load without failing a request, then disposes the old one', async () => {
    const { holder, engine, models } = setup({ maxBatchSize: 4 });
    await holder.load('v1');
    const requests: Promise<{ modelVersion: string }>[] = [];
    for (let i = 0; i < 40; i++) {
      requests.push(engine.emotion({ text: `surprise ${i}` }));
      if (i === 10) void holder.load('v2');
      await new Promise((r) => setTimeout(r, 1));
    }
    const results = await Promise.allSettled(requests);
    assert.deepEqual(
      results.filter((r) => r.status === 'rejected'),
      [],
    );
    const versions = new Set(
      results.map((r) => (r as PromiseFulfilledResult<{ modelVersion: string }>).value.modelVersion),
    );
    assert.deepEqual([...versions].sort(), ['v1', 'v2']);
    assert.equal(models[0].disposed, true);
    assert.equal(models[1].disposed, false);
  });

  it('refuses requests beyond the queue bound with RESOURCE_EXHAUSTED and retry-after', async () => {
    const { holder, engine } = setup({ maxQueue: 2, maxBatchSize: 1 });
    await holder.load('v1');
    const all = await Promise.allSettled(Array.from({ length: 6 }, () => engine.emotion({ text: 'fear' })));
    const refused = all
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason);
    assert.ok(refused.length >= 1);
    for (const e of refused) {
      assert.equal(e.code, 'RESOURCE_EXHAUSTED');
      assert.ok(e.retryAfterMs > 0);
    }
    assert.ok(all.filter((r) => r.status === 'fulfilled').length >= 3);
  });
});
