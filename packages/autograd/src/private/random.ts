// The engine's one seeded PRNG (mulberry32): gradient checks, weight init and token sampling in packages/models.
//
// The domain has its own copy in packages/metrics (random.ts): metrics, emt and m2se do not depend on the
// engine, and should not for twelve lines. Both copies must stay bit-identical (each package's spec pins
// the first values of seed 42).

/** mulberry32: small, fast, deterministic across platforms; uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
