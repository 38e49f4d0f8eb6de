// Written by `npm run calibrate:au` (scripts/calibrate-au.ts); do not edit by hand. The gain of each
// estimated (unclaimed) AU: the factor on its anatomical intensity that best matches real OpenFace output
// of the fit clips below, so that an AU we cannot measure well reads low rather than saturating.
// Claimed AUs keep gain 1 (their scales come from anatomy). Also the population's neutral face, for a
// person seen in too few frames to have a baseline of their own. Fit clips: default, WolfgangLanger_Pexels.
// Held out (reported by eval:au, never fitted to): single_face, face_noface, multi_face, 2015-10-15-15-14.
import type { AuName } from './types.js';

export const FIT_CLIPS: readonly string[] = ['default', 'WolfgangLanger_Pexels'];

export const ESTIMATE_GAIN: Partial<Record<AuName, number>> = {
  AU01: 0.73,
  AU02: 0.67,
  AU04: 0.26,
  AU05: 0.26,
  AU09: 0.23,
  AU17: 0.11,
  AU20: 0.39,
  AU23: 0.01,
};

/** The neutral value of each AU's measure over the fit clips' neutral frames (see AU_RULES). */
export const POPULATION_BASELINE: Record<AuName, number> = {
  AU01: 0.3755,
  AU02: 0.2933,
  AU04: 0.624,
  AU05: 0.0946,
  AU06: -0.5285,
  AU07: 0.0584,
  AU09: 1.0753,
  AU10: 0.2609,
  AU12: 0.4296,
  AU14: 0.8605,
  AU15: 0.0005,
  AU17: 0.5703,
  AU20: 0.8709,
  AU23: 0.2884,
  AU25: 0.0387,
  AU26: 1.1648,
  AU45: 0.0946,
};
