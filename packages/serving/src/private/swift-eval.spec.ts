import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { evaluateSwift, parseSwiftRecords, type SwiftClient } from './swift-eval.js';

const shared = process.env.EMOVERSE_SHARED ?? join(import.meta.dirname, '../../../../../shared');
const sample = (name: string) => readFileSync(join(shared, 'data/m2se_format', name), 'utf8');

/** Answers every ER query with 'Neutral.' and every ECPE query with the target as its own cause. */
function client(calls: string[]): SwiftClient {
  return {
    emotion: async (req) => {
      calls.push(`er:${req.media ? 'media' : 'text'}`);
      return { rawText: 'Neutral.' };
    },
    emotionCausePairs: async (req) => {
      calls.push(`ecpe:${req.target}/${req.conversation.length}`);
      const t = req.target;
      return { rawText: `${t}_${req.conversation[t - 1].emotion},${t}` };
    },
  };
}

describe('ms-swift evaluation', () => {
  it('parses JSON arrays and JSON Lines, naming bad lines', () => {
    const recs = parseSwiftRecords(
      '{"query":"q","response":"r","videos":["a.mp4"]}\n\n{"query":"q2","response":""}\n',
    );
    assert.deepEqual(recs[0], { query: 'q', response: 'r', videos: ['a.mp4'], images: undefined });
    assert.equal(recs.length, 2);
    assert.equal(parseSwiftRecords(sample('meld_dev_er_sample.json')).length, 40);
    assert.throws(() => parseSwiftRecords('{"query":"q","response":"r"}\nnot json', 'f.jsonl'), /f\.jsonl:2/);
    assert.throws(() => parseSwiftRecords('[{"query":1}]', 'f.json'), /record 0 lacks/);
  });

  it('scores the ER sample: a constant Neutral answer gets the neutral share as accuracy', async () => {
    const records = parseSwiftRecords(sample('meld_dev_er_sample.json'));
    const calls: string[] = [];
    const report = await evaluateSwift(records, client(calls), { readMedia: async () => undefined });
    const neutral = records.filter((r) => r.response === 'Neutral.').length;
    assert.equal(report.er?.accuracy, neutral / records.length);
    assert.match(report.summary, /^acc=0\.5000 wf1=0\.\d{4}$/);
    assert.equal(report.missingMedia.length, 40, 'the sample names videos that are not shipped');
    assert.equal(report.missingMedia[0].path, 'MELD/dev/dia0_utt0.mp4');
    assert.ok(
      calls.every((c) => c === 'er:text'),
      'records with missing media are answered from text',
    );
    assert.deepEqual(report.rows[0], { index: 0, task: 'er', gold: 'Sadness.', answer: 'Neutral.' });
  });

  it('scores the ECPE sample from parsed conversations, and passes found media along', async () => {
    const records = parseSwiftRecords(sample('ecf_dev_ecpe_sample.json'));
    const calls: string[] = [];
    const report = await evaluateSwift(records, client(calls), {
      readMedia: async (p) => (p.endsWith('dia18utt3.mp4') ? new Uint8Array([1]) : undefined),
    });
    assert.ok(calls.includes('ecpe:3/13'));
    assert.equal(report.missingMedia.length, 24);
    // The self-cause answer is right exactly where the gold pairs include (t, t).
    const gold = records.map((r) => r.response.split(';').filter(Boolean));
    const tp = gold.filter((pairs, i) => pairs.includes(report.rows[i].answer!)).length;
    const goldCount = gold.reduce((n, p) => n + p.length, 0);
    const p = tp / records.length;
    const r = tp / goldCount;
    assert.equal(report.ecpe?.pair.tp, tp);
    assert.ok(Math.abs(report.ecpe!.pair.f1 - (2 * p * r) / (p + r)) < 1e-12);
    assert.match(report.summary, /^ecpe_f1=0\.\d{4}$/);
  });

  it('keeps going when a call fails or a query asks for no known task, counting them as wrong', async () => {
    const records = [
      {
        query:
          "The person says: 'hi' <emotion> Please determine which emotion label in the video represents: anger, sadness, surprise, disgust, joy, neutral or fear.",
        response: 'Joy.',
      },
      { query: 'What is 2+2?', response: '4' },
    ];
    const failing: SwiftClient = {
      emotion: async () => {
        throw new Error('UNAVAILABLE: gateway down');
      },
      emotionCausePairs: async () => ({ rawText: '' }),
    };
    const report = await evaluateSwift(records, failing, { readMedia: async () => undefined });
    assert.equal(report.rows[0].answer, null);
    assert.match(report.rows[0].error!, /gateway down/);
    assert.equal(report.rows[1].task, 'unknown');
    assert.equal(report.er?.accuracy, 0);
    assert.equal(report.er?.unparsed, 1);
  });
});
