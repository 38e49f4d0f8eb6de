// Fitting label offsets on dev: they raise the metric they are fitted for, and never lower it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { erScoresFromText } from '@emoverse/metrics';
import { EMOTION_LABELS, labelAnswer } from '@emoverse/serving';
import { fitLabelOffsets } from './calibrate.js';

const wf1 = (a: readonly string[], g: readonly string[]) => erScoresFromText(a, g).weightedF1;

describe('fitLabelOffsets', () => {
  it('recovers a rare label that a prior-heavy model never picks', () => {
    // the model always prefers neutral by 1 nat, but its sadness score is 0.5 nat higher on sad records
    const neutral = EMOTION_LABELS.indexOf('neutral');
    const sadness = EMOTION_LABELS.indexOf('sadness');
    const logP: number[][] = [];
    const gold: string[] = [];
    for (let i = 0; i < 40; i++) {
      const sad = i % 4 === 0;
      const row = EMOTION_LABELS.map(() => -5);
      row[neutral] = -0.5;
      row[sadness] = sad ? -1.0 : -1.5;
      logP.push(row);
      gold.push(labelAnswer(sad ? 'sadness' : 'neutral'));
    }
    const fit = fitLabelOffsets(logP, gold, EMOTION_LABELS, wf1);
    assert.ok(fit.before < 0.7, `before ${fit.before}`);
    assert.equal(
      fit.after,
      1,
      'every record right once sadness gains 0.5 to 1 nat (a tie at 0.5 goes to the earlier label)',
    );
    const gain = fit.offsets[sadness] - fit.offsets[neutral];
    assert.ok(gain >= 0.5 - 1e-9 && gain < 1, `gain ${gain}`);
  });

  it('leaves offsets at 0 when no offset helps', () => {
    const logP = [
      [0, -9, -9, -9, -9, -9, -9],
      [-9, 0, -9, -9, -9, -9, -9],
    ];
    const gold = [labelAnswer(EMOTION_LABELS[0]), labelAnswer(EMOTION_LABELS[1])];
    const fit = fitLabelOffsets(logP, gold, EMOTION_LABELS, wf1);
    assert.equal(fit.before, 1);
    assert.equal(fit.after, 1);
    assert.deepEqual(
      fit.offsets,
      EMOTION_LABELS.map(() => 0),
    );
  });
});
