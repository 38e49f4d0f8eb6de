import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  detectTask,
  ecpePrompt,
  emotionPrompt,
  emotionReasonPrompt,
  facialExpressionPrompt,
  labelAnswer,
  parseEcpeQuery,
  parseEmotionQuery,
  sentimentPrompt,
} from './prompts.js';

const shared = process.env.EMOVERSE_SHARED ?? join(import.meta.dirname, '../../../../../shared');
const load = (name: string): { query: string; response: string }[] =>
  JSON.parse(readFileSync(join(shared, 'data/m2se_format', name), 'utf8'));

describe('task prompts', () => {
  it('rebuild every released ER query exactly from its utterance', () => {
    const records = load('meld_dev_er_sample.json');
    assert.equal(records.length, 40);
    for (const r of records) {
      const parsed = parseEmotionQuery(r.query);
      assert.ok(parsed, r.query);
      assert.equal(emotionPrompt(parsed.text), r.query);
      assert.equal(detectTask(r.query), 'er');
      assert.equal(labelAnswer(r.response.replace(/\.$/, '').toLowerCase()), r.response);
    }
  });

  it('rebuild every released ECPE query exactly from its conversation and target', () => {
    const records = load('ecf_dev_ecpe_sample.json');
    assert.equal(records.length, 25);
    for (const r of records) {
      const parsed = parseEcpeQuery(r.query);
      assert.ok(parsed, r.query);
      assert.equal(ecpePrompt(parsed.conversation, parsed.target), r.query);
      assert.equal(detectTask(r.query), 'ecpe');
    }
    const first = parseEcpeQuery(records[0].query)!;
    assert.equal(first.target, 3);
    assert.deepEqual(first.conversation[0], {
      emotion: 'neutral',
      speaker: 'Monica',
      text: 'Alright . Phoebe ?',
    });
  });

  it('detect the other tasks and refuse foreign queries', () => {
    assert.equal(detectTask(sentimentPrompt('Great!')), 'msa');
    assert.equal(detectTask('What is the capital of France?'), undefined);
    assert.equal(parseEmotionQuery('The person says: hi'), undefined);
    assert.equal(parseEcpeQuery(emotionPrompt('hi')), undefined);
  });

  it('take ERI history as EMT does, and refuse a target outside the conversation', () => {
    const p = emotionReasonPrompt('What?', [{ speaker: 'Ross', text: 'I got married.' }], 'Rachel');
    assert.ok(p.startsWith("Conversation so far:\nRoss: I got married.\nRachel says: 'What?' <emotion> "), p);
    assert.equal(detectTask(p), 'eri');
    assert.equal(detectTask(facialExpressionPrompt()), 'fer');
    assert.throws(() => ecpePrompt([{ text: 'a' }], 2), RangeError);
  });
});
