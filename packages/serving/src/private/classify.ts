// Constrained classification: the model scores every label's answer text, and the label with the
// highest likelihood wins. The probabilities are the softmax of the answers' log-likelihoods, i.e.
// the model's distribution renormalised over the valid labels.

export interface Classification {
  label: string;
  /** One probability per label, in the order of the label set; they sum to 1. */
  probabilities: { label: string; probability: number }[];
}

export function classify(logLikelihoods: number[], labels: readonly string[]): Classification {
  if (logLikelihoods.length !== labels.length || labels.length === 0) {
    throw new RangeError(`${logLikelihoods.length} scores for ${labels.length} labels`);
  }
  const finite = logLikelihoods.map((x) => (Number.isFinite(x) ? x : Number.NEGATIVE_INFINITY));
  const max = Math.max(...finite);
  // All -Infinity (or NaN) would divide 0 by 0: fall back to a uniform distribution.
  const weights =
    max === Number.NEGATIVE_INFINITY ? finite.map(() => 1) : finite.map((x) => Math.exp(x - max));
  const total = weights.reduce((a, b) => a + b, 0);
  const probabilities = labels.map((label, i) => ({ label, probability: weights[i] / total }));
  let best = 0;
  for (let i = 1; i < labels.length; i++) if (weights[i] > weights[best]) best = i;
  return { label: labels[best], probabilities };
}
