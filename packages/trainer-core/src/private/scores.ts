// One scorer for a model's and a baseline's answers alike (EvalAnswer: task, record, answer text,
// gold text), with 95% percentile-bootstrap intervals over the records:
//   ER  accuracy and weighted F1 over MELD's 7 emotions;
//   MSA Acc-2, negative vs non-negative and negative vs positive;
//   ECPE pair F1 as the paper's released scorer counts it (per target record with a non-empty gold,
//        `utt_emotion,cause` strings, emotion included), and ECF's convention beside it.
import type { EmtRecord } from '@emoverse/emt';
import { bootstrapInterval, ecpePaperScores, erScoresFromText, msaScoresFromText } from '@emoverse/metrics';
import { type EvalAnswer, ecpeReport } from './evaluate.js';

export const METRICS = ['meldAcc', 'meldWf1', 'acc2NegNonNeg', 'acc2NegPos', 'ecpeF1', 'ecpeF1Ecf'] as const;
export type MetricKey = (typeof METRICS)[number];

/** A metric's value on all records and its 95% bootstrap interval. */
export interface Estimate {
  value: number;
  low: number;
  high: number;
}

export type RunScores = Partial<Record<MetricKey, Estimate>>;

type Metric = (answers: readonly EvalAnswer[]) => number;

const texts = (a: readonly EvalAnswer[]) => [a.map((x) => x.answer), a.map((x) => x.gold)] as const;
const er = (a: readonly EvalAnswer[]) => erScoresFromText(...texts(a));
const msa = (a: readonly EvalAnswer[]) => msaScoresFromText(...texts(a));

const METRIC_OF: Record<MetricKey, { task: EvalAnswer['task']; f: Metric }> = {
  meldAcc: { task: 'er', f: (a) => er(a).accuracy },
  meldWf1: { task: 'er', f: (a) => er(a).weightedF1 },
  acc2NegNonNeg: { task: 'msa', f: (a) => msa(a).nonNegative.accuracy },
  acc2NegPos: { task: 'msa', f: (a) => msa(a).negPos.accuracy },
  ecpeF1: {
    task: 'ecpe',
    f: (a) => ecpePaperScores(a.map((x) => ({ predicted: x.answer, gold: x.gold }))).f1,
  },
  // ECF's convention needs the records (conversation ids); filled in by scoreAnswers
  ecpeF1Ecf: { task: 'ecpe', f: () => Number.NaN },
};

/**
 * Every metric whose task has answers, with intervals from `resamples` bootstrap resamples of the
 * records (seeded: the same answers give the same intervals).
 */
export function scoreAnswers(
  answers: readonly EvalAnswer[],
  ecpeRecords: readonly EmtRecord[] = [],
  resamples = 1000,
): RunScores {
  const out: RunScores = {};
  for (const key of METRICS) {
    const { task, f } = METRIC_OF[key];
    const mine = answers.filter((a) => a.task === task);
    if (mine.length === 0) continue;
    if (key === 'ecpeF1Ecf') {
      const byId = new Map(ecpeRecords.map((r) => [r.id, r]));
      const recs = mine.map((a) => byId.get(a.id)).filter((r): r is EmtRecord => r !== undefined);
      if (recs.length !== mine.length) continue;
      const metric = (sample: readonly EvalAnswer[]) =>
        ecpeReport(
          sample.map((a) => byId.get(a.id)!),
          sample.map((a) => a.answer),
        ).pair.f1;
      out[key] = estimate(mine, metric, resamples);
      continue;
    }
    out[key] = estimate(mine, f, resamples);
  }
  return out;
}

function estimate(items: readonly EvalAnswer[], metric: Metric, resamples: number): Estimate {
  const r = bootstrapInterval(items, metric, { resamples, seed: 7 });
  return { value: metric(items), low: r.low, high: r.high };
}
