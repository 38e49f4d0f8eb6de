// The README's model numbers are the committed run's numbers (results/runs/m2se-seed42.json), to the
// hundredth: a rerun that changes them must change the README too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  classify,
  EMOTION_LABELS,
  EmoVerseTaskModel,
  emotionPrompt,
  labelAnswer,
  labelOffsets,
  loadBase,
  readCalibration,
  SENTIMENT_LABELS,
  sentimentPrompt,
} from '@emoverse/serving';
import { resultLine } from '../cli.js';
import type { RunRecord } from './experiment.js';
import { verifyRelease } from './release.js';

const repo = join(import.meta.dirname, '../../../..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8').replace(/\s+/g, ' ');
const run = JSON.parse(readFileSync(join(repo, 'results/runs/m2se-seed42.json'), 'utf8')) as RunRecord;
const pct = (v: number | undefined) => (v === undefined ? 'missing' : (v * 100).toFixed(2));
const baseline = (name: string) => run.baselines.find((b) => b.name === name)?.scores;

describe("README's m2se-nano numbers", () => {
  it('are the recorded run on the full test sets, with its baselines', () => {
    assert.equal(run.limited, false);
    assert.equal(run.split, 'test');
    const claims = [
      `ER WF1 ${pct(run.scores.meldWf1?.value)}`,
      `${pct(baseline('bag-of-words')?.meldWf1?.value)} for the bag-of-words baseline`,
      `${pct(baseline('majority')?.meldWf1?.value)} for the majority class`,
      `Acc-2 ${pct(run.scores.acc2NegNonNeg?.value)} against ${pct(baseline('majority')?.acc2NegNonNeg?.value)} (majority)`,
      `${pct(baseline('bag-of-words')?.acc2NegNonNeg?.value)} (bag-of-words)`,
      `ECPE F1 ${pct(run.scores.ecpeF1?.value)} against ${pct(baseline('ecpe-self-prev')?.ecpeF1?.value)}`,
    ];
    for (const c of claims) assert.ok(readme.includes(c), `README says "${c}"`);
  });
});

describe("README's ablation numbers", () => {
  it('are the three-seed means of results/ablation.md', () => {
    // columns: Run | Kind | Seeds | MELD Acc | MELD WF1 | Acc-2 (neg / non-neg) | Acc-2 (neg / pos) | ECPE F1 | Note
    const rows = new Map(
      readFileSync(join(repo, 'results/ablation.md'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('| '))
        .map((l) => l.split('|').map((c) => c.trim()))
        .map((c) => [c[1], { seeds: c[3], wf1: c[5], acc2: c[6], ecpe: c[8] }] as const),
    );
    const row = (name: string) => {
      const r = rows.get(name);
      assert.ok(r, `results/ablation.md has a ${name} row`);
      assert.equal(r.seeds, '3', `${name} over three seeds`);
      return r;
    };
    for (const c of [
      `er-only WF1 ${row('er-only').wf1}`,
      `msa-only Acc-2 ${row('msa-only').acc2}`,
      `m2se WF1 ${row('m2se').wf1} and Acc-2 ${row('m2se').acc2}`,
      `multitask-1stage reaches WF1 ${row('multitask-1stage').wf1} and ECPE ${row('multitask-1stage').ecpe}`,
      `m2se ECPE ${row('m2se').ecpe}`,
    ])
      assert.ok(readme.includes(c), `README says "${c}"`);
  });
});

describe('the committed release artifact', () => {
  it("answers the demo's two plain sentences as a user expects (joy / positive, a non-neutral reproach)", async () => {
    const dir = join(repo, 'release/models/m2se-nano');
    const model = new EmoVerseTaskModel(loadBase({ dir }));
    const label = async (task: 'msa' | 'er', prompt: string, labels: readonly string[]) => {
      const [scores] = await model.scoreAnswers([{ prompt }], labels.map(labelAnswer));
      const offsets = labelOffsets(readCalibration(dir), task, labels) ?? labels.map(() => 0);
      return classify(
        scores.map((x, j) => x + offsets[j]),
        labels,
      ).label;
    };
    const job = "I just got the job! I can't believe it, this is amazing!";
    const reproach = 'Why would you do that to me? I trusted you!';
    assert.equal(await label('msa', sentimentPrompt(job), SENTIMENT_LABELS), 'positive');
    assert.equal(await label('er', emotionPrompt(job), EMOTION_LABELS), 'joy');
    assert.notEqual(await label('er', emotionPrompt(reproach), EMOTION_LABELS), 'neutral');
    await model.dispose();
  });

  it('is intact and is the model of the recorded run', () => {
    const release = verifyRelease(join(repo, 'release/models/m2se-nano'));
    assert.equal(release.recipe, 'm2se-nano');
    assert.equal(release.seed, run.seed);
    assert.equal(release.result, resultLine(run));
  });
});
