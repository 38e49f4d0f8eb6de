// Specs for the multi-call task flows (FER, ERI, ECPE, Generate's prompt) on the keyword test model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LoadedModel, loadedModel, TaskEngine } from './engine.js';
import { ServingError } from './errors.js';
import { KeywordModel } from './keyword-model.fixture.js';
import { ModelHolder } from './model-holder.js';
import { ecpePrompt, emotionPrompt, sentimentPrompt } from './prompts.js';
import {
  dedupePairs,
  ecpeConversation,
  ecpeTargets,
  emotionCausePairsFlow,
  emotionReasonFlow,
  facialExpressionFlow,
  type TaskSpan,
  taskPrompt,
} from './task-flows.js';
import { DEFAULT_LIMITS } from './validation.js';

async function setup() {
  const holder = new ModelHolder<LoadedModel>({
    load: async (version) => loadedModel(new KeywordModel(version, 1), 2),
    dispose: (lm) => lm.model.dispose(),
  });
  await holder.load('v1');
  const engine = new TaskEngine(holder, { maxBatchSize: 8, maxWaitMs: 1, maxQueue: 64 });
  const spans: string[] = [];
  const span: TaskSpan = (task, fn) => {
    spans.push(task);
    return fn();
  };
  return { engine, spans, span };
}

const isInvalid = (e: unknown) => e instanceof ServingError && e.code === 'INVALID_ARGUMENT';

describe('facialExpressionFlow', () => {
  it('generates the caption and scores the emotion, under one fer span', async () => {
    const { engine, spans, span } = await setup();
    const { caption, emotion } = await facialExpressionFlow(engine, { text: '' }, { span });
    assert.equal(caption.text, 'v1 says hello');
    assert.ok(emotion.label);
    assert.deepEqual(spans, ['fer']);
    engine.close();
  });
});

describe('emotionReasonFlow', () => {
  it('uses a given emotion (lowercased) and forces it as the answer start', async () => {
    const { engine, spans, span } = await setup();
    const { result, emotion } = await emotionReasonFlow(engine, { text: 'hm' }, ' Joy ', { span });
    assert.equal(emotion, 'joy');
    assert.match(result.text, /^Joy\. /);
    assert.deepEqual(spans, ['eri']);
    engine.close();
  });

  it('asks ER first when no emotion is given', async () => {
    const { engine, spans, span } = await setup();
    const { emotion } = await emotionReasonFlow(engine, { text: 'what anger' }, '', { span });
    assert.equal(emotion, 'anger');
    assert.deepEqual(spans, ['er', 'eri']);
    engine.close();
  });

  it('rejects an emotion that is not one word', async () => {
    const { engine } = await setup();
    await assert.rejects(emotionReasonFlow(engine, { text: 'x' }, 'joy!', {}), isInvalid);
    engine.close();
  });
});

describe('ecpeConversation', () => {
  it('appends the text as the last turn, with the speaker', () => {
    const c = ecpeConversation({ text: 'b', speaker: 'S', history: [{ text: 'a' }] }, 0, DEFAULT_LIMITS);
    assert.deepEqual(c, [{ text: 'a' }, { speaker: 'S', text: 'b' }]);
  });

  it('rejects an empty conversation, too many turns, a bad label and a target beyond the end', () => {
    assert.throws(() => ecpeConversation({ text: ' ' }, 0, DEFAULT_LIMITS), isInvalid);
    const long = Array.from({ length: DEFAULT_LIMITS.maxHistoryTurns + 1 }, () => ({ text: 'x' }));
    assert.throws(() => ecpeConversation({ text: '', history: long }, 0, DEFAULT_LIMITS), isInvalid);
    assert.throws(
      () => ecpeConversation({ text: '', history: [{ text: 'x', emotion: 'jo y' }] }, 0, DEFAULT_LIMITS),
      isInvalid,
    );
    assert.throws(() => ecpeConversation({ text: 'x' }, 2, DEFAULT_LIMITS), isInvalid);
  });
});

describe('ecpeTargets and dedupePairs', () => {
  it('targets the given utterance, or every non-neutral one', () => {
    const c = [
      { text: 'a', emotion: 'Neutral' },
      { text: 'b', emotion: 'joy' },
      { text: 'c', emotion: 'anger' },
    ];
    assert.deepEqual(ecpeTargets(c, 1), [1]);
    assert.deepEqual(ecpeTargets(c, 0), [2, 3]);
  });

  it('keeps each (emotion, cause) pair once, in first-seen order', () => {
    const pairs = [
      { emotionUtt: 3, causeUtt: 3 },
      { emotionUtt: 3, causeUtt: 1 },
      { emotionUtt: 3, causeUtt: 3 },
    ];
    assert.deepEqual(dedupePairs(pairs), pairs.slice(0, 2));
  });
});

describe('emotionCausePairsFlow', () => {
  it('labels unlabeled turns with ER, asks each non-neutral target, and merges the pairs', async () => {
    const { engine, spans, span } = await setup();
    const out = await emotionCausePairsFlow(
      engine,
      { text: 'such joy', history: [{ text: 'hello', emotion: 'neutral' }, { text: 'my anger' }] },
      0,
      DEFAULT_LIMITS,
      { span },
    );
    assert.deepEqual(
      out.pairs.map((p) => [p.emotionUtt, p.causeUtt, p.emotion]),
      [
        [3, 3, 'joy'],
        [3, 1, 'joy'],
      ],
    );
    // the keyword model names utterance 3 in every answer: for target 2 that is no pair at all
    assert.equal(out.rawText, '\n3_joy,3;3_joy,1');
    assert.equal(out.modelVersion, 'v1');
    assert.deepEqual(spans, ['er', 'er', 'ecpe']);
    engine.close();
  });
});

describe('taskPrompt', () => {
  it("formats the text as the task's instruction, or passes it raw without a task", () => {
    assert.equal(taskPrompt('msa', { text: 'hi' }), sentimentPrompt('hi'));
    assert.equal(taskPrompt('er', { text: 'hi' }), emotionPrompt('hi'));
    assert.equal(
      taskPrompt('ecpe', { text: 'b', history: [{ text: 'a', emotion: 'joy' }] }),
      ecpePrompt(
        [
          { text: 'a', emotion: 'joy' },
          { text: 'b', emotion: 'neutral' },
        ],
        2,
      ),
    );
    assert.equal(taskPrompt(undefined, { text: 'raw' }), 'raw');
  });
});
