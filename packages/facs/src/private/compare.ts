// Frame-by-frame agreement of our AU intensities with an OpenFace output of the same video.
import type { OpenFaceRow } from './openface-csv.js';
import { AU_NAMES, type AuName, type AuVector } from './types.js';

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
