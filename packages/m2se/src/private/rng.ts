// Deterministic randomness for data order. Everything random in a run is derived from the recipe's
// seed plus a key naming what it is for ("task MSA pass 0", "stage 1 epoch 0"), so any permutation can
// be recomputed from scratch after a crash instead of being replayed: that is what makes resume exact.

import { mulberry32Step } from '@emoverse/metrics';

/** 32-bit FNV-1a over the key, mixed with the seed: turns (seed, key) into a stream seed. */
export function hashSeed(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  // mix both 32-bit halves of large seeds
  h = Math.imul(h ^ Math.floor(seed / 0x100000000), 0x01000193) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * mulberry32 (the domain's, from packages/metrics): a small PRNG whose whole state is one uint32, so it serialises as a number.
 * Statistical quality is ample for shuffling training data.
 */
export class Rng {
  private s: number;
  constructor(state: number) {
    this.s = state >>> 0;
  }
  static from(seed: number, key: string): Rng {
    return new Rng(hashSeed(seed, key));
  }
  /** The serialisable state; `new Rng(rng.state)` continues the same stream. */
  get state(): number {
    return this.s;
  }
  /** Uniform in [0, 1). */
  next(): number {
    const step = mulberry32Step(this.s);
    this.s = step.state;
    return step.value;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Fisher-Yates permutation of 0..n-1 from (seed, key). */
export function permutation(n: number, seed: number, key: string): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rng = Rng.from(seed, key);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
