// Specs for analyzeUtterance: validation, media analysed once, concurrency, parts in order, causes with text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AnalysedMedia, type AnalysisPart, analyzeUtterance } from './analysis.js';
import { type LoadedModel, loadedModel, TaskEngine } from './engine.js';
import { ServingError } from './errors.js';
import { KeywordModel } from './keyword-model.fixture.js';
import { ModelHolder } from './model-holder.js';
import { DEFAULT_LIMITS } from './validation.js';

async function setup(delayMs = 20) {
  const holder = new ModelHolder<LoadedModel>({
    load: async (version) => loadedModel(new KeywordModel(version, delayMs), 2),
    dispose: (lm) => lm.model.dispose(),
  });
  await holder.load('v1');
  return new TaskEngine(holder, { maxBatchSize: 8, maxWaitMs: 1, maxQueue: 64, concurrency: 4 });
}

const conversation = [
  { speaker: 'Ross', text: 'I got the job!' },
  { speaker: 'Rachel', text: 'Really? What a joy, so positive!' },
];
// The keyword model's ECPE answer names utterances 3 and 1 as causes of utterance 3.
const three = [...conversation, { speaker: 'Ross', text: 'Such joy, so positive!' }];

const isInvalid = (pattern: RegExp) => (e: unknown) =>
  e instanceof ServingError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message);

describe('analyzeUtterance', () => {
  it('answers all five tasks, with the media analysed once and the causes carrying their text', async () => {
    const engine = await setup();
    let mediaCalls = 0;
    const media = async () => {
      mediaCalls++;
      return { visual: [new Float32Array(4)], peakAus: ['AU12'] };
    };
    const out = await analyzeUtterance(engine, { conversation: three, target: 3, media }, DEFAULT_LIMITS);
    assert.equal(mediaCalls, 1);
    assert.equal(out.emotion.label, 'joy');
    assert.equal(out.sentiment.label, 'positive');
    assert.equal(out.emotion.probabilities.length, 7);
    assert.equal(out.facialExpression?.caption, 'v1 says hello');
    assert.deepEqual(out.facialExpression?.media.peakAus, ['AU12']);
    assert.equal(out.reason.emotion, 'joy');
    assert.match(out.reason.rationale, /^Joy\. /);
    assert.deepEqual(
      out.causes.map((c) => [c.emotionUtt, c.causeUtt, c.emotion, c.causeSpeaker, c.causeText]),
      [
        [3, 3, 'joy', 'Ross', three[2].text],
        [3, 1, 'joy', 'Ross', three[0].text],
      ],
    );
    assert.equal(out.modelVersion, 'v1');
    engine.close();
  });

  it('runs MSA, ER and FER at once, and ERI only after ER', async () => {
    const engine = await setup(40);
    const media = async () => ({ visual: [new Float32Array(4)] });
    const out = await analyzeUtterance(engine, { conversation, target: 2, media }, DEFAULT_LIMITS);
    const t = Object.fromEntries(out.timings.map((s) => [s.stage, s]));
    const end = (s: string) => t[s].startMs + t[s].durationMs;
    for (const s of ['sentiment', 'facial_expression']) {
      assert.ok(t[s].startMs < end('emotion'), `${s} started before ER finished`);
    }
    assert.ok(t.reason.startMs >= end('emotion') - 1, 'ERI waits for ER');
    assert.ok(t.media.startMs <= t.sentiment.startMs, 'media comes first');
    const sum = ['sentiment', 'emotion', 'facial_expression'].reduce((a, s) => a + t[s].durationMs, 0);
    assert.ok(t.total.durationMs < sum + t.media.durationMs + t.reason.durationMs, 'overlapped, not serial');
    engine.close();
  });

  it('hands parts over as they finish: emotion before reason, media first, no FER without media', async () => {
    const engine = await setup();
    const parts: string[] = [];
    const onPart = (p: AnalysisPart<AnalysedMedia>) => parts.push(p.part);
    await analyzeUtterance(engine, { conversation, target: 2 }, DEFAULT_LIMITS, { onPart });
    assert.ok(parts.indexOf('emotion') < parts.indexOf('reason'));
    assert.deepEqual([...parts].sort(), ['causes', 'emotion', 'reason', 'sentiment']);
    const withMedia: string[] = [];
    const media = async () => ({ visual: [] });
    await analyzeUtterance(engine, { conversation, target: 1, media }, DEFAULT_LIMITS, {
      onPart: (p) => withMedia.push(p.part),
    });
    assert.equal(withMedia[0], 'media');
    assert.ok(withMedia.includes('facial_expression'));
    engine.close();
  });

  it('refuses an empty target or a target outside the conversation before any model call or media', async () => {
    const engine = await setup();
    let mediaCalls = 0;
    const media = async () => {
      mediaCalls++;
      return { visual: [] };
    };
    const run = (conv: typeof conversation, target: number) =>
      analyzeUtterance(engine, { conversation: conv, target, media }, DEFAULT_LIMITS);
    await assert.rejects(run([{ speaker: 'A', text: '  ' }], 1), isInvalid(/target utterance is empty/));
    await assert.rejects(run(conversation, 3), isInvalid(/outside the 2-turn conversation/));
    await assert.rejects(run(conversation, 0), isInvalid(/outside/));
    await assert.rejects(run([], 1), isInvalid(/conversation is empty/));
    assert.equal(mediaCalls, 0);
    engine.close();
  });
});
