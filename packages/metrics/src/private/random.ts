// The domain's one seeded PRNG (mulberry32): bootstrap resampling here, shuffles in emt, data order in m2se.
//
// The engine has its own copy in packages/autograd (random.ts): domain packages without engine
// dependencies (metrics, emt, m2se) should not take one for twelve lines. Both copies must stay
// bit-identical (each package's spec pins the first values of seed 42).

/** One mulberry32 step from a uint32 state: the next state and a uniform number in [0, 1). */
export function mulberry32Step(state: number): { state: number; value: number } {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { state: next, value: ((t ^ (t >>> 14)) >>> 0) / 4294967296 };
}

/** mulberry32 as a generator function: uniform numbers in [0, 1) from `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    const step = mulberry32Step(a);
    a = step.state;
    return step.value;
  };
}
