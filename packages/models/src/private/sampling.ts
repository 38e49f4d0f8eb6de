// Choosing the next token from logits: greedy, or sampling with temperature and top-p from a
// seeded generator (so a seed reproduces a run).

/** mulberry32: small, fast, and good enough for sampling. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
