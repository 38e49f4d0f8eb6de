// Fits a trained model's decision rule on the dev split and writes it beside the weights
// (calibration.json, read by packages/serving): per-label offsets b_y added to log p(y | x) before the
// argmax, chosen to maximise the task's metric on dev: weighted F1 for ER, Acc-2 (negative vs
// non-negative) for MSA.
//
// Fitting: coordinate ascent over a grid (b_y ∈ [-4, 4] in steps of 0.1, three passes, the first
// label held at 0 since only differences matter). Dev only: the test split never informs the offsets.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmtRecord } from '@emoverse/emt';
import { erScoresFromText, msaScoresFromText } from '@emoverse/metrics';
import {
  CALIBRATION_FILE,
  type Calibration,
  EMOTION_LABELS,
  labelAnswer,
  SENTIMENT_LABELS,
} from '@emoverse/serving';
import { askRecord, servingEngine } from './evaluate.js';

export type CalibratedTask = 'er' | 'msa';

/** A task's metric on answer texts against gold texts (higher is better). */
type Metric = (answers: readonly string[], gold: readonly string[]) => number;

const TASKS: Record<CalibratedTask, { labels: readonly string[]; metric: Metric; name: string }> = {
  er: { labels: EMOTION_LABELS, metric: (a, g) => erScoresFromText(a, g).weightedF1, name: 'weighted F1' },
  msa: {
    labels: SENTIMENT_LABELS,
    metric: (a, g) => msaScoresFromText(a, g).nonNegative.accuracy,
    name: 'Acc-2',
  },
};

const GRID = Array.from({ length: 81 }, (_, i) => -4 + i / 10);
const PASSES = 3;

/** The argmax label's answer text of each row of log-probabilities after adding `offsets`. */
function decide(logP: readonly number[][], offsets: readonly number[], labels: readonly string[]): string[] {
  return logP.map((row) => {
    let best = 0;
    for (let j = 1; j < row.length; j++) if (row[j] + offsets[j] > row[best] + offsets[best]) best = j;
    return labelAnswer(labels[best]);
  });
}

/**
 * Offsets that maximise `metric` of the offset argmax over `logP` (rows: records, columns: labels).
 * Returns them with the metric before (all 0) and after.
 */
export function fitLabelOffsets(
  logP: readonly number[][],
  gold: readonly string[],
  labels: readonly string[],
  metric: Metric,
): { offsets: number[]; before: number; after: number } {
  const offsets = labels.map(() => 0);
  const before = metric(decide(logP, offsets, labels), gold);
  let best = before;
  for (let pass = 0; pass < PASSES; pass++) {
    let improved = false;
    for (let j = 1; j < labels.length; j++) {
      let bestB = offsets[j];
      for (const b of GRID) {
        offsets[j] = b;
        const m = metric(decide(logP, offsets, labels), gold);
        if (m > best + 1e-12) {
          best = m;
          bestB = b;
          improved = true;
        }
      }
      offsets[j] = bestB;
    }
    if (!improved) break;
  }
  return { offsets, before, after: best };
}

/** Each dev record's log-probabilities over the task's labels, from the model folder, uncalibrated. */
async function devLogProbabilities(
  modelDir: string,
  task: CalibratedTask,
  records: readonly EmtRecord[],
): Promise<number[][]> {
  const { engine, close } = await servingEngine(modelDir, 16, { calibration: false });
  try {
    return await Promise.all(
      records.map(async (r) => {
        const out = await askRecord(task, r, engine);
        return (out.probabilities ?? []).map((p) => Math.log(Math.max(p.probability, 1e-30)));
      }),
    );
  } finally {
    await close();
  }
}

/**
 * Fits the offsets of each task given dev records for, and writes calibration.json into the model
 * folder (through a temporary file and a rename, so that a reader never sees half of it).
 */
export async function calibrateModelDir(
  modelDir: string,
  devRecords: Partial<Record<CalibratedTask, readonly EmtRecord[]>>,
): Promise<Calibration> {
  const calibration: Calibration = { format: 'emoverse-calibration/1', labelBias: {}, fitted: {} };
  for (const [task, records] of Object.entries(devRecords) as [CalibratedTask, EmtRecord[]][]) {
    if (!records?.length) continue;
    const { labels, metric, name } = TASKS[task];
    const logP = await devLogProbabilities(modelDir, task, records);
    const fit = fitLabelOffsets(
      logP,
      records.map((r) => r.response),
      labels,
      metric,
    );
    calibration.labelBias[task] = Object.fromEntries(
      labels.map((l, j) => [l, Math.round(fit.offsets[j] * 10) / 10]),
    );
    calibration.fitted![task] = {
      split: 'dev',
      records: records.length,
      metric: name,
      before: fit.before,
      after: fit.after,
    };
  }
  const path = join(modelDir, CALIBRATION_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(calibration, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return calibration;
}
