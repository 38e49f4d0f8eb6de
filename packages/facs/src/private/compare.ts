// Frame-by-frame agreement of our AU intensities with an OpenFace output of the same video.
import type { OpenFaceRow } from './openface-csv.js';
import type { AuAnalysis, PersonPeak } from './peaks.js';
import { AU_NAMES, type AuName, type AuVector, type FrameGeometry, type Point } from './types.js';

export function pearson(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return Number.NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : Number.NaN;
}

export function meanAbsoluteError(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(a[i] - b[i]);
  return n > 0 ? s / n : Number.NaN;
}

export interface AuAgreement {
  au: AuName;
  r: number;
  mae: number;
}

export interface Comparison {
  /** Frames present (successfully tracked) in both. */
  matchedFrames: number;
  perAu: AuAgreement[];
}

/** The face_id with the most successful rows (the person a single-face comparison should use). */
export function mainFaceId(rows: readonly { face_id?: number; success?: boolean }[]): number | undefined {
  const counts = new Map<number, number>();
  for (const r of rows)
    if (r.success !== false) counts.set(r.face_id ?? 0, (counts.get(r.face_id ?? 0) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
}

/**
 * Pairs rows by frame number, one face per frame in each file: the rows of `faceIds.ours` and
 * `faceIds.reference` when given (the two tools number people independently), else the first
 * successful row of the frame. Computes per-AU Pearson r and MAE.
 */
export function compareWithOpenFace(
  ours: readonly { frame: number; aus: AuVector; face_id?: number; success?: boolean }[],
  reference: readonly OpenFaceRow[],
  faceIds: { ours?: number; reference?: number } = {},
): Comparison {
  const pick = (
    rows: readonly { frame: number; face_id?: number; success?: boolean; aus: AuVector }[],
    faceId: number | undefined,
  ) => {
    const m = new Map<number, AuVector>();
    for (const r of rows) {
      if (r.success === false) continue;
      if (faceId !== undefined && (r.face_id ?? 0) !== faceId) continue;
      if (!m.has(r.frame)) m.set(r.frame, r.aus);
    }
    return m;
  };
  const a = pick(ours, faceIds.ours);
  const b = pick(reference, faceIds.reference);
  const frames = [...a.keys()].filter((f) => b.has(f)).sort((x, y) => x - y);
  const perAu = AU_NAMES.map((au) => {
    const x = frames.map((f) => a.get(f)![au]);
    const y = frames.map((f) => b.get(f)![au]);
    return { au, r: pearson(x, y), mae: meanAbsoluteError(x, y) };
  });
  return { matchedFrames: frames.length, perAu };
}

/** The frame with the largest AU sum (eq. 1) in an OpenFace output, over successful rows. */
export function openFacePeak(rows: readonly OpenFaceRow[]): OpenFaceRow | undefined {
  let best: OpenFaceRow | undefined;
  let bestS = -Infinity;
  for (const r of rows) {
    if (!r.success) continue;
    const s = AU_NAMES.reduce((t, a) => t + r.aus[a], 0);
    if (s > bestS) {
      best = r;
      bestS = s;
    }
  }
  return best;
}

/**
 * Our person that OpenFace followed, when the reference has landmarks: the person whose 68 landmarks
 * lie, in most shared frames, within half an inter-ocular distance of OpenFace's (centre to centre).
 * Undefined when the reference has no landmarks or no frame matches.
 */
export function matchingPerson(
  ours: readonly { frame: number; personId: number; landmarks: readonly Point[] }[],
  reference: readonly OpenFaceRow[],
): number | undefined {
  const centre = (ps: readonly Point[]) => ({
    x: ps.reduce((s, p) => s + p.x, 0) / ps.length,
    y: ps.reduce((s, p) => s + p.y, 0) / ps.length,
  });
  const refByFrame = new Map<number, { c: Point; iod: number }>();
  for (const r of reference) {
    if (!r.success || !r.landmarks) continue;
    const iod = Math.hypot(r.landmarks[36].x - r.landmarks[45].x, r.landmarks[36].y - r.landmarks[45].y);
    refByFrame.set(r.frame, { c: centre(r.landmarks), iod });
  }
  const hits = new Map<number, number>();
  for (const o of ours) {
    const ref = refByFrame.get(o.frame);
    if (!ref || o.landmarks.length === 0) continue;
    const c = centre(o.landmarks);
    if (Math.hypot(c.x - ref.c.x, c.y - ref.c.y) <= 0.5 * ref.iod)
      hits.set(o.personId, (hits.get(o.personId) ?? 0) + 1);
  }
  return [...hits.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
}

export interface ClipEvaluation extends Comparison {
  /** Our person compared with the face OpenFace followed. */
  person: number;
  /** Per AU: r, MAE and whether it is claimed (measured) rather than estimated. */
  perAu: (AuAgreement & { claimed: boolean })[];
  /** Mean r over the claimed AUs with a defined r (NaN when none). */
  meanR: number;
  /** r between our S_f series and OpenFace's (the sum of its 17 intensities), over the matched frames. */
  sfR: number;
  /** Our person's peak time minus OpenFace's (seconds); NaN when either has none. */
  peakDeltaS: number;
  ourPeak?: PersonPeak;
  referencePeak?: OpenFaceRow;
}

/**
 * Everything eval:au reports for one clip: our analysis of `frames` against an OpenFace output of the
 * same video, for the person OpenFace followed (matched by landmarks when the reference has them, else
 * each tool's most-seen face).
 */
export function evaluateAgainstOpenFace(
  frames: readonly FrameGeometry[],
  analysis: AuAnalysis,
  reference: readonly OpenFaceRow[],
  claimed: readonly AuName[],
): ClipEvaluation {
  const flat = frames.flatMap((f) =>
    f.faces.map((face) => ({ frame: f.index + 1, personId: face.personId, landmarks: face.landmarks })),
  );
  const rows = analysis.frames.map((f) => ({
    frame: f.index + 1,
    face_id: f.personId,
    aus: f.aus,
    S_f: f.S_f,
  }));
  const person = matchingPerson(flat, reference) ?? mainFaceId(rows) ?? 0;
  const refFace = mainFaceId(reference);
  const cmp = compareWithOpenFace(rows, reference, { ours: person, reference: refFace });
  const perAu = cmp.perAu.map((a) => ({ ...a, claimed: claimed.includes(a.au) }));
  const defined = perAu.filter((a) => a.claimed && Number.isFinite(a.r));
  const meanR = defined.length > 0 ? defined.reduce((s, a) => s + a.r, 0) / defined.length : Number.NaN;
  const ours = new Map(rows.filter((r) => r.face_id === person).map((r) => [r.frame, r.S_f]));
  const theirs = new Map(
    reference
      .filter((r) => r.success && (refFace === undefined || r.face_id === refFace))
      .map((r) => [r.frame, AU_NAMES.reduce((s, a) => s + r.aus[a], 0)]),
  );
  const common = [...ours.keys()].filter((f) => theirs.has(f)).sort((a, b) => a - b);
  const sfR = pearson(
    common.map((f) => ours.get(f)!),
    common.map((f) => theirs.get(f)!),
  );
  const ourPeak = analysis.peaks.find((p) => p.personId === person);
  const referencePeak = openFacePeak(reference.filter((r) => refFace === undefined || r.face_id === refFace));
  const peakDeltaS = ourPeak && referencePeak ? ourPeak.timeS - referencePeak.timestamp : Number.NaN;
  return { matchedFrames: cmp.matchedFrames, perAu, person, meanR, sfR, peakDeltaS, ourPeak, referencePeak };
}
