// Position ids and attention biases, computed in JS from the attention mask (1 = token, 0 = pad).
// Left padding is the batching convention: row b's real tokens end at the right edge, so a new
// token is appended at the same column for every row.

/** A large negative instead of -inf, so a fully masked row (a pad query) gives no NaN. */
export const MASKED = -1e9;

/** position of each token = number of real tokens before it (pads get 0), as HF generate. */
export function positionIdsFromMask(mask: readonly number[][], pastLengths?: readonly number[]): number[][] {
  return mask.map((row, b) => {
    let n = pastLengths?.[b] ?? 0;
    return row.map((m) => (m ? n++ : 0));
  });
}

/**
 * Additive bias [B, 1, 1, S, T] for S new queries over T = P + S keys, where `keyMask` [B][T]
 * marks real keys (cache + new). Query s sits at key column P + s and sees columns <= P + s.
 */
export function causalBias(keyMask: readonly number[][], newLength: number): Float32Array {
  const B = keyMask.length;
  const T = keyMask[0]?.length ?? 0;
  const S = newLength;
  const P = T - S;
  const out = new Float32Array(B * S * T);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const row = (b * S + s) * T;
      for (let t = 0; t < T; t++) out[row + t] = t <= P + s && keyMask[b][t] ? 0 : MASKED;
    }
  }
  return out;
}

/** A full (non-causal) bias: every query sees every real key. */
export function paddingBias(keyMask: readonly number[][], queries: number): Float32Array {
  const B = keyMask.length;
  const T = keyMask[0]?.length ?? 0;
  const out = new Float32Array(B * queries * T);
  for (let b = 0; b < B; b++)
    for (let s = 0; s < queries; s++)
      for (let t = 0; t < T; t++) out[(b * queries + s) * T + t] = keyMask[b][t] ? 0 : MASKED;
  return out;
}
