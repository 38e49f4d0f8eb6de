// Percentile bootstrap confidence intervals (Efron & Tibshirani, An Introduction to the Bootstrap, 1993,
// §13.3) for any metric over per-record data, with a seeded generator so a table is reproducible.
// To compare two systems, make each item hold both systems' outputs for one record (a paired bootstrap).
import { mulberry32 } from './random.js';

export interface BootstrapOptions {
  /** Resamples drawn; default 1000. */
  resamples?: number;
  /** Seed of the generator (mulberry32); default 0. */
  seed?: number;
  /** Coverage of the interval; default 0.95. */
  level?: number;
}

export interface BootstrapInterval {
  /** The metric on all the items. */
  estimate: number;
  low: number;
  high: number;
}

/** The q-quantile of sorted values by linear interpolation between order statistics (numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

/**
 * The metric on the items, and the (1 − level)/2 and (1 + level)/2 quantiles of the metric over resamples
 * of the items drawn with replacement (each resample as large as the data).
 */
export function bootstrapInterval<T>(
  items: readonly T[],
  metric: (sample: readonly T[]) => number,
  options: BootstrapOptions = {},
): BootstrapInterval {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  if (items.length === 0) throw new Error('bootstrapInterval of no items');
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new Error(`resamples must be >= 1, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new Error(`level must be in (0, 1), got ${level}`);
  const random = mulberry32(options.seed ?? 0);
  const values = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const sample = Array.from({ length: items.length }, () => items[Math.floor(random() * items.length)]);
    values[r] = metric(sample);
    if (Number.isNaN(values[r])) throw new Error(`the metric is NaN on resample ${r}`);
  }
  values.sort();
  return {
    estimate: metric(items),
    low: quantile(values, (1 - level) / 2),
    high: quantile(values, (1 + level) / 2),
  };
}
