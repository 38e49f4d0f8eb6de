// MSA Acc-2 in the two conventions used in the MOSI/MOSEI literature (as in the MMSA toolkit):
//  - "negative vs non-negative": every sample; class = score < 0 vs score >= 0;
//  - "negative vs positive": samples whose gold score is 0 (neutral) are left out; class = score > 0.
// F1 is the support-weighted F1 of the two classes. Labels map to scores positive=+1, negative=-1, neutral=0,
// so MELD's 3-way sentiment uses the same code as MOSEI's [-3, 3] scores.
import { classificationReport } from './classification.js';
import type { Sentiment } from './labels.js';
import { parseSentiment } from './parse.js';

export interface Acc2 {
  accuracy: number;
  f1: number;
  /** Samples counted in this convention. */
  n: number;
}

export interface MsaReport {
  /** negative vs non-negative, all samples. */
  nonNegative: Acc2;
  /** negative vs positive, gold-neutral samples excluded. */
  negPos: Acc2;
  /** Predictions that named no sentiment (counted as neutral, score 0). */
  unparsed: number;
}

export function sentimentScore(s: Sentiment): number {
  return s === 'positive' ? 1 : s === 'negative' ? -1 : 0;
}

function binary(preds: boolean[], truths: boolean[]): Acc2 {
  const r = classificationReport(
    preds.map((p) => (p ? 'pos' : 'neg')),
    truths.map((t) => (t ? 'pos' : 'neg')),
    ['neg', 'pos'] as const,
  );
  return { accuracy: r.accuracy, f1: r.weightedF1, n: r.n };
}

/** Acc-2 and F1 in both conventions from predicted and gold scores (labels as -1/0/+1 are fine). */
export function msaScores(
  predScores: readonly number[],
  goldScores: readonly number[],
  unparsed = 0,
): MsaReport {
  if (predScores.length !== goldScores.length) {
    throw new Error(`predictions (${predScores.length}) and truths (${goldScores.length}) differ in length`);
  }
  const nonNegative = binary(
    predScores.map((p) => p >= 0),
    goldScores.map((g) => g >= 0),
  );
  const keep = goldScores.map((g, i) => (g !== 0 ? i : -1)).filter((i) => i >= 0);
  const negPos = binary(
    keep.map((i) => predScores[i] > 0),
    keep.map((i) => goldScores[i] > 0),
  );
  return { nonNegative, negPos, unparsed };
}

/**
 * Scores generated answers against gold answers. A stated score is used when both sides have one
 * (MOSEI), otherwise the polarity word (MELD). Unparsed predictions count as neutral.
 */
export function msaScoresFromText(answers: readonly string[], goldAnswers: readonly string[]): MsaReport {
  const preds: number[] = [];
  const golds: number[] = [];
  let unparsed = 0;
  goldAnswers.forEach((g, i) => {
    const gold = parseSentiment(g);
    if (!gold) throw new Error(`gold answer ${i} names no sentiment: ${JSON.stringify(g)}`);
    const pred = parseSentiment(answers[i] ?? '');
    if (!pred) unparsed++;
    const useScores = gold.score !== undefined && pred?.score !== undefined;
    golds.push(useScores ? gold.score! : sentimentScore(gold.label));
    preds.push(!pred ? 0 : useScores ? pred.score! : sentimentScore(pred.label));
  });
  return msaScores(preds, golds, unparsed);
}
