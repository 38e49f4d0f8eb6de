// The decision rule a model folder ships with (calibration.json): per-label offsets added to the
// answers' log-likelihoods before the argmax, fitted on the dev split after training.
//
// Why: constrained classification picks argmax_y log p(y | x). A small model's p(y | x) leans on the
// label prior of its training mix (MELD is 47% neutral), so the argmax under-predicts rare labels,
// which weighted F1 punishes. Adding b_y to log p(y | x) is prior correction (the "contextual
// calibration" of Zhao et al. 2021, with b fitted for the task's metric instead of estimated from a
// content-free input). The offsets belong to one trained model: the trainer fits them on the dev split
// (never test) and writes them beside the weights; absent, every offset is 0 and the rule is the
// plain argmax.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CALIBRATION_FILE = 'calibration.json';

export interface Calibration {
  format: 'emoverse-calibration/1';
  /** Per classification task ("er", "msa"): label → offset added to its answer's log-likelihood. */
  labelBias: Record<string, Record<string, number>>;
  /** Where the offsets come from, for people: split, records, metric before and after. */
  fitted?: Record<string, { split: string; records: number; metric: string; before: number; after: number }>;
}

/** The offsets for `labels` of `task`, in their order (0 where the calibration names none). */
export function labelOffsets(
  calibration: Calibration | undefined,
  task: string,
  labels: readonly string[],
): number[] {
  const bias = calibration?.labelBias[task];
  return labels.map((l) => bias?.[l] ?? 0);
}

/** Reads a model folder's calibration.json; undefined when the folder has none. */
export function readCalibration(modelDir: string): Calibration | undefined {
  const path = join(modelDir, CALIBRATION_FILE);
  if (!existsSync(path)) return undefined;
  return parseCalibration(readFileSync(path, 'utf8'), path);
}

/** Parses and checks a calibration file's text (`where` names it in errors: a bad file fails the model's load). */
export function parseCalibration(text: string, where = CALIBRATION_FILE): Calibration {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: not JSON (${(err as Error).message})`);
  }
  const c = json as Partial<Calibration>;
  if (c?.format !== 'emoverse-calibration/1' || typeof c.labelBias !== 'object' || c.labelBias === null)
    throw new Error(`${where}: expected {"format": "emoverse-calibration/1", "labelBias": {...}}`);
  for (const [task, offsets] of Object.entries(c.labelBias)) {
    for (const [label, b] of Object.entries(offsets ?? {})) {
      if (typeof b !== 'number' || !Number.isFinite(b))
        throw new Error(`${where}: labelBias.${task}.${label} is not a finite number`);
    }
  }
  return c as Calibration;
}
