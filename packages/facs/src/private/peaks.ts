// Eq. 1 and eq. 2 of the paper: S_f = Σ_i AU_i(f) over the measured (claimed) AUs; each person's peak
// frame is the one with the largest S_f, and across people the peak is the person whose own peak scores
// highest. Estimated AUs are still reported per frame, but take no part in S_f. Frames with an extreme
// head pose or a low face confidence take no part in either choice (their geometry is unreliable).

import { POPULATION_BASELINE } from './calibration.js';
import { CLAIMED_AUS } from './claimed.js';
import { type Baseline, type BaselineOptions, intensities, neutralBaseline } from './intensity.js';
import { faceMeasures, MEASURE_NAMES, type Measures } from './measures.js';
import {
  AU_NAMES,
  type AuName,
  type AuVector,
  EXPRESSION_NAMES,
  type FrameGeometry,
  type HeadPose,
} from './types.js';

export interface ExclusionOptions {
  /** Largest |yaw| in degrees (default 35). */
  maxYawDeg?: number;
  /** Largest |pitch| in degrees (default 30). */
  maxPitchDeg?: number;
  /** Smallest face confidence (default 0.6). */
  minConfidence?: number;
  /**
   * Largest change of pitch / yaw in degrees from the person's median pose (defaults 20 / 25): the 2D
   * measures are compared with a baseline taken at the person's usual pose, and a head nodded or turned
   * far from it changes them as much as an action would.
   */
  maxPitchChangeDeg?: number;
  maxYawChangeDeg?: number;
}

export interface ScoreOptions extends ExclusionOptions, BaselineOptions {
  /**
   * A person needs this many usable frames to be a peak candidate (default 5), or half of the input's
   * frames when the input is shorter (a short utterance, a still image), so a brief false detection
   * cannot win eq. 2 while a short span still gets its peak.
   */
  minPersonFrames?: number;
  /** Light temporal smoothing of the measures over each person's consecutive frames (default true). */
  smooth?: boolean;
  /** The AUs S_f sums (default CLAIMED_AUS: the measured ones). */
  sfAus?: readonly AuName[];
  /**
   * A person with fewer usable frames than this (default 5; a still image has one) is compared with the
   * population's neutral face (POPULATION_BASELINE) instead of their own.
   */
  minBaselineFrames?: number;
  /** Per-AU gain on the anatomical intensity (default ESTIMATE_GAIN, see intensities). */
  gain?: Partial<Record<AuName, number>>;
}

export interface AuFrame {
  index: number;
  timeS: number;
  personId: number;
  confidence: number;
  pose: HeadPose;
  aus: AuVector;
  /** Eq. 1: the sum of the intensities of the AUs in AuAnalysis.sfAus. */
  S_f: number;
  /** Why the frame takes no part in peak selection, if it does not. */
  excluded?: 'pose' | 'confidence';
  /** The face's expression probabilities in EXPRESSION_NAMES order, when the face had them. */
  expressions?: number[];
  /** The face's 128-d descriptor in this frame, when it was computed. */
  descriptor?: ArrayLike<number>;
}

export interface PersonPeak {
  personId: number;
  index: number;
  timeS: number;
  S_f: number;
  aus: AuVector;
  /** Frames of this person usable for peak selection. */
  usableFrames: number;
}

export interface AuAnalysis {
  /** One row per face per frame, ordered by frame then person. */
  frames: AuFrame[];
  /** Eq. 2, first step: each person's peak (people with too few usable frames are left out). */
  peaks: PersonPeak[];
  /** Eq. 2: the person whose peak scores highest, or null when no person qualifies. */
  peak: PersonPeak | null;
  /** Each person's neutral baseline (in the units of each AU's measure, see AU_RULES). */
  baselines: Map<number, Baseline>;
  /** The AUs S_f summed: the measured ones. The others in `aus` are estimates. */
  sfAus: readonly AuName[];
}

/** Eq. 1 over `over` (default: all 17 AUs). */
export function sumAus(aus: AuVector, over: readonly AuName[] = AU_NAMES): number {
  let s = 0;
  for (const a of over) s += aus[a];
  return s;
}

export function exclusionReason(
  face: { score: number; pose: HeadPose },
  opts: ExclusionOptions = {},
): 'pose' | 'confidence' | undefined {
  const deg = 180 / Math.PI;
  if (face.score < (opts.minConfidence ?? 0.6)) return 'confidence';
  if (Math.abs(face.pose.yaw * deg) > (opts.maxYawDeg ?? 35)) return 'pose';
  if (Math.abs(face.pose.pitch * deg) > (opts.maxPitchDeg ?? 30)) return 'pose';
  return undefined;
}

/** [1, 2, 1] / 4 over neighbours that are consecutive samples of the same person. */
function smoothMeasures(rows: { index: number; measures: Measures }[]): Measures[] {
  return rows.map((row, k) => {
    const prev = rows[k - 1]?.index === row.index - 1 ? rows[k - 1] : undefined;
    const next = rows[k + 1]?.index === row.index + 1 ? rows[k + 1] : undefined;
    if (!prev && !next) return row.measures;
    const out = {} as Measures;
    for (const name of MEASURE_NAMES) {
      const a = (prev ?? row).measures[name];
      const c = (next ?? row).measures[name];
      out[name] = (a + 2 * row.measures[name] + c) / 4;
    }
    return out;
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
}

/** Marks 'pose' the rows whose pitch or yaw is far from the person's median over its usable rows. */
function excludeAwayFromUsualPose(
  rows: { pose: HeadPose; excluded?: 'pose' | 'confidence' }[],
  opts: ExclusionOptions,
): void {
  const usable = rows.filter((r) => !r.excluded);
  const deg = 180 / Math.PI;
  const pitch = median(usable.map((r) => r.pose.pitch * deg));
  const yaw = median(usable.map((r) => r.pose.yaw * deg));
  for (const r of usable) {
    if (
      Math.abs(r.pose.pitch * deg - pitch) > (opts.maxPitchChangeDeg ?? 20) ||
      Math.abs(r.pose.yaw * deg - yaw) > (opts.maxYawChangeDeg ?? 25)
    )
      r.excluded = 'pose';
  }
}

/** The whole AU stage for one video or span: intensities per face per frame, S_f, peaks. */
export function scoreAus(frames: readonly FrameGeometry[], opts: ScoreOptions = {}): AuAnalysis {
  type Row = {
    index: number;
    timeS: number;
    personId: number;
    confidence: number;
    pose: HeadPose;
    measures: Measures;
    neutral?: number;
    excluded?: 'pose' | 'confidence';
    expressions?: number[];
    descriptor?: ArrayLike<number>;
  };
  const byPerson = new Map<number, Row[]>();
  for (const f of frames) {
    for (const face of f.faces) {
      const row: Row = {
        index: f.index,
        timeS: f.timeS,
        personId: face.personId,
        confidence: face.score,
        pose: face.pose,
        measures: faceMeasures(face),
        neutral: face.expression?.neutral,
        excluded: exclusionReason(face, opts),
      };
      if (face.expression) row.expressions = EXPRESSION_NAMES.map((e) => face.expression?.[e] ?? 0);
      if (face.descriptor) row.descriptor = face.descriptor;
      const list = byPerson.get(face.personId) ?? [];
      list.push(row);
      byPerson.set(face.personId, list);
    }
  }
  const out: AuFrame[] = [];
  const needed = Math.min(opts.minPersonFrames ?? 5, Math.max(1, Math.ceil(frames.length / 2)));
  const peaks: PersonPeak[] = [];
  const baselines = new Map<number, Baseline>();
  const sfAus = opts.sfAus ?? CLAIMED_AUS;
  for (const [personId, rows] of byPerson) {
    rows.sort((a, b) => a.index - b.index);
    excludeAwayFromUsualPose(rows, opts);
    const measures = opts.smooth === false ? rows.map((r) => r.measures) : smoothMeasures(rows);
    const usable = rows.map((r, k) => ({ r, m: measures[k] })).filter(({ r }) => !r.excluded);
    const baseline =
      usable.length < (opts.minBaselineFrames ?? 5)
        ? { ...POPULATION_BASELINE }
        : neutralBaseline(
            usable.map(({ r, m }) => ({ measures: m, neutral: r.neutral })),
            opts,
          );
    baselines.set(personId, baseline);
    let best: PersonPeak | undefined;
    rows.forEach((r, k) => {
      const aus = intensities(measures[k], baseline, opts.gain);
      const S_f = sumAus(aus, sfAus);
      const frame: AuFrame = {
        index: r.index,
        timeS: r.timeS,
        personId,
        confidence: r.confidence,
        pose: r.pose,
        aus,
        S_f,
      };
      if (r.excluded) frame.excluded = r.excluded;
      if (r.expressions) frame.expressions = r.expressions;
      if (r.descriptor) frame.descriptor = r.descriptor;
      out.push(frame);
      if (!r.excluded && (!best || S_f > best.S_f)) {
        best = { personId, index: r.index, timeS: r.timeS, S_f, aus, usableFrames: usable.length };
      }
    });
    if (best && usable.length >= needed) peaks.push(best);
  }
  out.sort((a, b) => a.index - b.index || a.personId - b.personId);
  peaks.sort((a, b) => a.personId - b.personId);
  const peak = peaks.reduce<PersonPeak | null>((p, c) => (!p || c.S_f > p.S_f ? c : p), null);
  return { frames: out, peaks, peak, baselines, sfAus };
}

/**
 * Why an analysis has no peak (undefined when it has one): 'no_face' when no face was found, 'pose' or
 * 'confidence' when every face was excluded (the more common reason; a tie is 'pose', since a turned
 * head also lowers the detector's confidence), 'too_few_frames' when people had usable frames but too
 * few to be peak candidates.
 */
export function noPeakReason(analysis: Pick<AuAnalysis, 'frames' | 'peak'>): NoPeakReason | undefined {
  if (analysis.peak) return undefined;
  if (analysis.frames.length === 0) return 'no_face';
  let pose = 0;
  let confidence = 0;
  for (const f of analysis.frames) {
    if (!f.excluded) return 'too_few_frames';
    if (f.excluded === 'pose') pose++;
    else confidence++;
  }
  return pose >= confidence ? 'pose' : 'confidence';
}

export type NoPeakReason = 'no_face' | 'pose' | 'confidence' | 'too_few_frames';
