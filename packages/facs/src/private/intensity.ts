// From raw measures to OpenFace-scale intensities: AU_i = clamp(5 · (d − deadZone) / fullScale, 0, 5),
// where d is the change of the AU's measure from the person's own neutral value, signed so that the
// muscle's action makes it positive. fullScale is the change (in inter-ocular distances, or as a
// fraction of the neutral value for `relative` AUs) that a maximal action produces; the values come
// from facial anatomy (e.g. a wide-open mouth parts the lips by about 0.4 IOD; a brow flash lifts the
// brows by about 0.15 IOD), not from fitting any reference video.
import { ESTIMATE_GAIN } from './calibration.js';
import type { MeasureName, Measures } from './measures.js';
import { AU_NAMES, type AuName, type AuVector } from './types.js';

export interface AuRule {
  /** The measure, or a weighted sum of measures. */
  measure: Partial<Record<MeasureName, number>>;
  /** +1: the action increases the measure; −1: it decreases it. */
  direction: 1 | -1;
  /** Change that maps to intensity 5. */
  fullScale: number;
  /** Change ignored as noise or as belonging to a weaker neighbouring action. */
  deadZone?: number;
  /** Change taken relative to the neutral value (for openings that close completely, like a blink). */
  relative?: boolean;
}

export const AU_RULES: Record<AuName, AuRule> = {
  AU01: { measure: { browInnerHeight: 1 }, direction: 1, fullScale: 0.15 }, // inner brow raiser
  AU02: { measure: { browOuterHeight: 1 }, direction: 1, fullScale: 0.15 }, // outer brow raiser
  AU04: { measure: { browHeight: 1, browGap: 0.5 }, direction: -1, fullScale: 0.12 }, // brows down and together
  AU05: { measure: { upperLidHeight: 1 }, direction: 1, fullScale: 0.06 }, // upper lid raiser
  AU06: { measure: { cheekHeight: 1 }, direction: 1, fullScale: 0.1 }, // cheeks lifted toward the eyes
  AU07: { measure: { lowerLidDepth: 1 }, direction: -1, fullScale: 0.05 }, // lower lids pushed up (narrowing)
  AU09: { measure: { noseBrow: 1 }, direction: -1, fullScale: 0.1 }, // nose wrinkle shortens brow–nose
  AU10: { measure: { upperLipNose: 1 }, direction: -1, fullScale: 0.1 }, // upper lip raised toward the nose
  AU12: { measure: { cornerLift: 1, mouthWidth: 0.5 }, direction: 1, fullScale: 0.2 }, // corners up and out
  AU14: { measure: { mouthWidth: 1 }, direction: 1, fullScale: 0.3 }, // corners pulled back (dimpler)
  AU15: { measure: { cornerLift: 1 }, direction: -1, fullScale: 0.08 }, // corners down
  AU17: { measure: { chinLowerLip: 1 }, direction: -1, fullScale: 0.1 }, // chin pushes the lower lip up
  AU20: { measure: { mouthWidth: 1, cornerLift: -2 }, direction: 1, fullScale: 0.3 }, // sideways, not up
  AU23: { measure: { lipThickness: 1 }, direction: -1, fullScale: 0.1 }, // lips narrowed
  AU25: { measure: { lipsGap: 1 }, direction: 1, fullScale: 0.35, deadZone: 0.01 }, // lips part
  AU26: { measure: { jaw: 1 }, direction: 1, fullScale: 0.3, deadZone: 0.02 }, // jaw drop: chin away from the nose
  AU45: { measure: { upperLidHeight: 1 }, direction: -1, fullScale: 0.7, relative: true, deadZone: 0.1 }, // upper lid falls
};

export function ruleValue(rule: AuRule, m: Measures): number {
  let v = 0;
  for (const [k, w] of Object.entries(rule.measure)) v += (w ?? 0) * m[k as MeasureName];
  return v;
}

/** The per-person neutral value of each AU's measure. */
export type Baseline = Record<AuName, number>;

/**
 * AU_i = clamp(gain_i · 5 · (d − deadZone) / fullScale, 0, 5); gain_i is 1 for claimed AUs and the fitted
 * ESTIMATE_GAIN (calibration.ts) for estimated ones.
 */
export function intensities(
  m: Measures,
  baseline: Baseline,
  gain: Partial<Record<AuName, number>> = ESTIMATE_GAIN,
): AuVector {
  const out = {} as AuVector;
  for (const au of AU_NAMES) {
    const rule = AU_RULES[au];
    const base = baseline[au];
    let d = rule.direction * (ruleValue(rule, m) - base);
    if (rule.relative) d /= Math.abs(base) || 1;
    const v = ((gain[au] ?? 1) * 5 * (d - (rule.deadZone ?? 0))) / rule.fullScale;
    out[au] = Math.min(5, Math.max(0, v));
  }
  return out;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface BaselineOptions {
  /** A frame counts as neutral when the expression model's `neutral` probability is at least this (0.5). */
  minNeutral?: number;
  /** Neutral frames needed to trust them: this fraction of the person's frames, at least 5 (0.1). */
  minNeutralFraction?: number;
  /** Fallback: the quantile of each measure on the "no action" side (0.2). */
  fallbackQuantile?: number;
}

/**
 * The person's neutral face. Preferably the median of each measure over the frames the expression model
 * calls neutral (so a smile held for half the video does not shift it); when there are too few such
 * frames, the value at the `fallbackQuantile` on the side of each measure where its AU is absent.
 */
export function neutralBaseline(
  samples: readonly { measures: Measures; neutral?: number }[],
  opts: BaselineOptions = {},
): Baseline {
  const minNeutral = opts.minNeutral ?? 0.5;
  const need = Math.max(5, Math.ceil((opts.minNeutralFraction ?? 0.1) * samples.length));
  const neutral = samples.filter((s) => (s.neutral ?? 0) >= minNeutral);
  const useNeutral = neutral.length >= need;
  const out = {} as Baseline;
  for (const au of AU_NAMES) {
    const rule = AU_RULES[au];
    const pool = (useNeutral ? neutral : samples)
      .map((s) => ruleValue(rule, s.measures))
      .sort((a, b) => a - b);
    if (useNeutral) out[au] = quantile(pool, 0.5);
    else {
      const q = opts.fallbackQuantile ?? 0.2;
      out[au] = quantile(pool, rule.direction > 0 ? q : 1 - q);
    }
  }
  return out;
}
