// One scorer for a model's and a baseline's answers alike (EvalAnswer: task, record, answer text,
// gold text), with 95% percentile-bootstrap intervals over the records:
//   ER  accuracy and weighted F1 over MELD's 7 emotions;
//   MSA Acc-2, negative vs non-negative and negative vs positive;
//   ECPE pair F1 as the paper's released scorer counts it (per target record with a non-empty gold,
//        `utt_emotion,cause` strings, emotion included), and ECF's convention beside it.
import type { EmtRecord } from '@emoverse/emt';
import {
  bootstrapInterval,
  type EcpeReport,
  ecpePaperScores,
  ecpeScores,
  erScoresFromText,
  msaScoresFromText,
  parseEcpePairs,
} from '@emoverse/metrics';
import type { EvalAnswer } from './evaluate.js';

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

/** ECF's convention (documents keyed by conversation, pairs merged, emotion not checked). */
export function ecpeReport(recs: readonly EmtRecord[], answers: readonly string[]): EcpeReport {
  const doc = (r: EmtRecord, text: string) => ({
    conversationId: r.meta.conversation ?? r.sourceId,
    pairs: parseEcpePairs(text),
  });
  return ecpeScores(
    recs.map((r, i) => doc(r, answers[i])),
    recs.map((r) => doc(r, r.response)),
  );
}

interface MetricDef {
  task: EvalAnswer['task'];
  f: Metric;
  /** What every answer needs for the metric to apply (ECF's convention: the answer's record). */
  needs?: (a: EvalAnswer) => boolean;
}

/** Each metric's task and its value on a set of answers; ECF's convention looks up the answers' records. */
function metrics(ecpeRecords: readonly EmtRecord[]): Record<MetricKey, MetricDef> {
  const byId = new Map(ecpeRecords.map((r) => [r.id, r]));
  return {
    meldAcc: { task: 'er', f: (a) => er(a).accuracy },
    meldWf1: { task: 'er', f: (a) => er(a).weightedF1 },
    acc2NegNonNeg: { task: 'msa', f: (a) => msa(a).nonNegative.accuracy },
    acc2NegPos: { task: 'msa', f: (a) => msa(a).negPos.accuracy },
    ecpeF1: {
      task: 'ecpe',
      f: (a) => ecpePaperScores(a.map((x) => ({ predicted: x.answer, gold: x.gold }))).f1,
    },
    ecpeF1Ecf: {
      task: 'ecpe',
      needs: (a) => byId.has(a.id),
      f: (a) =>
        ecpeReport(
          a.map((x) => byId.get(x.id)!),
          a.map((x) => x.answer),
        ).pair.f1,
    },
  };
}

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
  const table = metrics(ecpeRecords);
  for (const key of METRICS) {
    const { task, f, needs } = table[key];
    const mine = answers.filter((a) => a.task === task);
    if (mine.length === 0 || (needs && !mine.every(needs))) continue;
    out[key] = estimate(mine, f, resamples);
  }
  return out;
}

function estimate(items: readonly EvalAnswer[], metric: Metric, resamples: number): Estimate {
  const r = bootstrapInterval(items, metric, { resamples, seed: 7 });
  return { value: metric(items), low: r.low, high: r.high };
}
