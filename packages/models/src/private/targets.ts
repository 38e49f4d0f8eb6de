// Labels and per-token loss weights for the causal-LM loss head (see lm.ts lossHead).
// transformers' convention: logits at t predict the label at t+1, -100 is ignored, and the loss
// is the mean over the counted tokens. Weights let a trainer weigh examples (M2SE's per-task
// loss weights) without a new graph.

export const IGNORE = -100;

export interface LossTargets {
  /** shifted labels [B][S]: row[t] = labels[t+1], last = -100 */
  labels: number[][];
  /** per-token weights [B*S] */
  weights: Float32Array;
  /** counted tokens per example */
  counts: number[];
}

/**
 * - 'tokens' (default): sum_b w_b sum_t l_bt / sum_b n_b; with w = 1 this is transformers' loss.
 * - 'examples': (1/B) sum_b w_b mean_t l_bt; every example counts the same whatever its length.
 */
export function causalLmTargets(
  labels: readonly number[][],
  opts: { exampleWeights?: readonly number[]; normalize?: 'tokens' | 'examples' } = {},
): LossTargets {
  const B = labels.length;
  const S = labels[0]?.length ?? 0;
  const shifted = labels.map((row) => [...row.slice(1), IGNORE]);
  const counts = shifted.map((row) => row.filter((v) => v !== IGNORE).length);
  const total = counts.reduce((a, b) => a + b, 0);
  const weights = new Float32Array(B * S);
  for (let b = 0; b < B; b++) {
    const w = opts.exampleWeights?.[b] ?? 1;
    const per = opts.normalize === 'examples' ? (counts[b] ? w / (counts[b] * B) : 0) : total ? w / total : 0;
    for (let t = 0; t < S; t++) if (shifted[b][t] !== IGNORE) weights[b * S + t] = per;
  }
  return { labels: shifted, weights, counts };
}

/** Per-example mean token loss from the graph's token_loss output [B, S]. */
export function perExampleLoss(tokenLoss: Float32Array, targets: LossTargets): number[] {
  const B = targets.labels.length;
  const S = targets.labels[0]?.length ?? 0;
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let t = 0; t < S; t++) if (targets.labels[b][t] !== IGNORE) s += tokenLoss[b * S + t];
    out.push(targets.counts[b] ? s / targets.counts[b] : 0);
  }
  return out;
}
