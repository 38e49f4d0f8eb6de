// Accuracy and (weighted) F1 over a fixed label set, as scikit-learn computes them
// (f1_score(average='weighted', labels=...)): per-class F1 weighted by each class's true support.
// A prediction that parsed to nothing (null) is wrong and counts as a miss for its true class.

export interface ClassScore {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport<L extends string> {
  n: number;
  accuracy: number;
  weightedF1: number;
  macroF1: number;
  perClass: Record<L, ClassScore>;
  /** Predictions that named no label. */
  unparsed: number;
}

function safeDiv(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

export function classificationReport<L extends string>(
  predictions: readonly (L | null)[],
  truths: readonly L[],
  labels: readonly L[],
): ClassificationReport<L> {
  if (predictions.length !== truths.length) {
    throw new Error(`predictions (${predictions.length}) and truths (${truths.length}) differ in length`);
  }
  const tp = new Map<L, number>();
  const predicted = new Map<L, number>();
  const support = new Map<L, number>();
  let correct = 0;
  let unparsed = 0;
  for (let i = 0; i < truths.length; i++) {
    const t = truths[i];
    const p = predictions[i];
    support.set(t, (support.get(t) ?? 0) + 1);
    if (p === null) {
      unparsed++;
      continue;
    }
    predicted.set(p, (predicted.get(p) ?? 0) + 1);
    if (p === t) {
      correct++;
      tp.set(t, (tp.get(t) ?? 0) + 1);
    }
  }
  const perClass = {} as Record<L, ClassScore>;
  let weighted = 0;
  let macro = 0;
  for (const l of labels) {
    const s = support.get(l) ?? 0;
    const precision = safeDiv(tp.get(l) ?? 0, predicted.get(l) ?? 0);
    const recall = safeDiv(tp.get(l) ?? 0, s);
    const f1 = safeDiv(2 * precision * recall, precision + recall);
    perClass[l] = { precision, recall, f1, support: s };
    weighted += f1 * s;
    macro += f1;
  }
  const n = truths.length;
  const supportInLabels = labels.reduce((a, l) => a + (support.get(l) ?? 0), 0);
  return {
    n,
    accuracy: safeDiv(correct, n),
    weightedF1: safeDiv(weighted, supportInLabels),
    macroF1: safeDiv(macro, labels.length),
    perClass,
    unparsed,
  };
}
