// Choosing the next token from logits: greedy, or sampling with temperature and top-p from a
// seeded generator (so a seed reproduces a run).

import { mulberry32 } from '@emoverse/autograd';

/** The engine's mulberry32 (packages/autograd): small, fast, and good enough for sampling. */
export const seededRandom: (seed: number) => () => number = mulberry32;

export function argmax(logits: ArrayLike<number>, offset = 0, n = logits.length): number {
  let best = 0;
  let bestV = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = logits[offset + i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

export interface SamplingOptions {
  /** 0 (or undefined) = greedy */
  temperature?: number;
  /** nucleus: sample from the smallest set of tokens whose probability reaches topP */
  topP?: number;
  /** only the k most likely tokens */
  topK?: number;
  /** > 1 makes tokens already generated less likely (see penalizeRepetition); 1 = off */
  repetitionPenalty?: number;
  /** n > 0: never generate an n-gram a second time (see penalizeRepetition); 0 = off */
  noRepeatNgramSize?: number;
}

/**
 * Repetition control on one row of logits, in place, given the row's generated tokens `seen`:
 *  - repetition penalty (Keskar et al. 2019, CTRL eq. 2 as transformers applies it): a seen token's
 *    logit l becomes l / p when l > 0 and l * p otherwise, so its probability drops for p > 1;
 *  - no-repeat n-grams: a token that would end an n-gram already present in `seen` gets -inf.
 * Deviation from transformers: only generated tokens count, not the prompt, because answers
 * must copy prompt tokens (an ECPE answer "4_joy,3" repeats the target's index and emotion).
 */
export function penalizeRepetition(
  logits: Float32Array,
  offset: number,
  seen: readonly number[],
  o: Pick<SamplingOptions, 'repetitionPenalty' | 'noRepeatNgramSize'>,
): void {
  const p = o.repetitionPenalty ?? 1;
  if (p !== 1) {
    for (const t of new Set(seen)) {
      const l = logits[offset + t];
      logits[offset + t] = l > 0 ? l / p : l * p;
    }
  }
  const n = o.noRepeatNgramSize ?? 0;
  if (n > 0 && seen.length >= n) {
    // the last n-1 tokens, and every earlier position where they occurred: what followed is banned
    const prefix = seen.slice(seen.length - n + 1);
    for (let i = 0; i + n <= seen.length; i++) {
      let match = true;
      for (let k = 0; k < n - 1 && match; k++) match = seen[i + k] === prefix[k];
      if (match) logits[offset + seen[i + n - 1]] = Number.NEGATIVE_INFINITY;
    }
  }
}

/** One token from one row of logits [vocab]. */
export function sampleToken(
  logits: ArrayLike<number>,
  offset: number,
  vocab: number,
  o: SamplingOptions,
  random: () => number,
): number {
  const temp = o.temperature ?? 0;
  if (temp <= 0) return argmax(logits, offset, vocab);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i] / temp);
  const probs = new Float64Array(vocab);
  let sum = 0;
  for (let i = 0; i < vocab; i++) {
    probs[i] = Math.exp(logits[offset + i] / temp - max);
    sum += probs[i];
  }
  const order = Array.from({ length: vocab }, (_, i) => i).sort((a, b) => probs[b] - probs[a]);
  const topP = o.topP ?? 1;
  const topK = o.topK ?? vocab;
  let keep = 0;
  let mass = 0;
  while (keep < Math.min(topK, vocab)) {
    mass += probs[order[keep]] / sum;
    keep++;
    if (mass >= topP) break;
  }
  let kept = 0;
  for (let i = 0; i < keep; i++) kept += probs[order[i]];
  let r = random() * kept;
  for (let i = 0; i < keep; i++) {
    r -= probs[order[i]];
    if (r <= 0) return order[i];
  }
  return order[keep - 1];
}
