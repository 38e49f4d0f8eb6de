// OpenFace FeatureExtraction's CSV layout: frame, face_id, timestamp, confidence, success, the six pose
// columns, then AU01_r … AU45_r. Tools written for OpenFace output can read what we write, and we read
// real OpenFace files (which carry more columns: presence flags, gaze, landmarks) to compare with them.
import type { AuFrame } from './peaks.js';
import { AU_NAMES, type AuVector, type Point, zeroAus } from './types.js';

export interface OpenFaceRow {
  /** 1-based, as OpenFace writes it. */
  frame: number;
  face_id: number;
  timestamp: number;
  confidence: number;
  success: boolean;
  pose: { Tx: number; Ty: number; Tz: number; Rx: number; Ry: number; Rz: number };
  aus: AuVector;
  /** OpenFace's 68 2D landmarks (x_0…y_67, pixels), when the file has them. */
  landmarks?: Point[];
}

export const OPENFACE_HEADER = [
  'frame',
  'face_id',
  'timestamp',
  'confidence',
  'success',
  'pose_Tx',
  'pose_Ty',
  'pose_Tz',
  'pose_Rx',
  'pose_Ry',
  'pose_Rz',
  ...AU_NAMES.map((a) => `${a}_r`),
];

/**
 * Our frames as OpenFace rows. Translation is not estimated (no camera model): written as 0. Given the
 * list of all sampled frames, frames where no face was found get OpenFace's `success = 0` row.
 */
export function toOpenFaceRows(
  frames: readonly AuFrame[],
  sampled?: readonly { index: number; timeS: number }[],
): OpenFaceRow[] {
  const rows: OpenFaceRow[] = frames.map((f) => ({
    frame: f.index + 1,
    face_id: f.personId,
    timestamp: f.timeS,
    confidence: f.confidence,
    success: true,
    pose: { Tx: 0, Ty: 0, Tz: 0, Rx: f.pose.pitch, Ry: f.pose.yaw, Rz: f.pose.roll },
    aus: f.aus,
  }));
  if (sampled) {
    const seen = new Set(frames.map((f) => f.index));
    for (const s of sampled) {
      if (seen.has(s.index)) continue;
      rows.push({
        frame: s.index + 1,
        face_id: 0,
        timestamp: s.timeS,
        confidence: 0,
        success: false,
        pose: { Tx: 0, Ty: 0, Tz: 0, Rx: 0, Ry: 0, Rz: 0 },
        aus: zeroAus(),
      });
    }
    rows.sort((a, b) => a.frame - b.frame || a.face_id - b.face_id);
  }
  return rows;
}

export function writeOpenFaceCsv(rows: readonly OpenFaceRow[]): string {
  const lines = [OPENFACE_HEADER.join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.frame,
        r.face_id,
        r.timestamp.toFixed(3),
        r.confidence.toFixed(2),
        r.success ? 1 : 0,
        r.pose.Tx.toFixed(1),
        r.pose.Ty.toFixed(1),
        r.pose.Tz.toFixed(1),
        r.pose.Rx.toFixed(3),
        r.pose.Ry.toFixed(3),
        r.pose.Rz.toFixed(3),
        ...AU_NAMES.map((a) => r.aus[a].toFixed(2)),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Parses an OpenFace CSV (ours or OpenFace's own; header names may carry leading spaces). */
export function readOpenFaceCsv(text: string): OpenFaceRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error('OpenFace CSV: empty file');
  const header = lines[0].split(',').map((h) => h.trim());
  const col = (name: string, required = true) => {
    const i = header.indexOf(name);
    if (i < 0 && required) throw new Error(`OpenFace CSV: missing column ${name}`);
    return i;
  };
  const idx = {
    frame: col('frame'),
    face: col('face_id', false),
    ts: col('timestamp'),
    conf: col('confidence'),
    success: col('success'),
    pose: ['pose_Tx', 'pose_Ty', 'pose_Tz', 'pose_Rx', 'pose_Ry', 'pose_Rz'].map((p) => col(p, false)),
    aus: AU_NAMES.map((a) => col(`${a}_r`)),
    landmarks: Array.from({ length: 68 }, (_, k) => [col(`x_${k}`, false), col(`y_${k}`, false)]),
  };
  const hasLandmarks = idx.landmarks.every(([x, y]) => x >= 0 && y >= 0);
  return lines.slice(1).map((line, n) => {
    const cells = line.split(',');
    if (cells.length < header.length)
      throw new Error(`OpenFace CSV: line ${n + 2} has ${cells.length} cells`);
    const num = (i: number) => (i < 0 ? 0 : Number(cells[i]));
    const aus = Object.fromEntries(AU_NAMES.map((a, k) => [a, num(idx.aus[k])])) as AuVector;
    const [Tx, Ty, Tz, Rx, Ry, Rz] = idx.pose.map(num);
    const row: OpenFaceRow = {
      frame: num(idx.frame),
      face_id: idx.face < 0 ? 0 : num(idx.face),
      timestamp: num(idx.ts),
      confidence: num(idx.conf),
      success: num(idx.success) === 1,
      pose: { Tx, Ty, Tz, Rx, Ry, Rz },
      aus,
    };
    if (hasLandmarks) row.landmarks = idx.landmarks.map(([x, y]) => ({ x: num(x), y: num(y) }));
    return row;
  });
}
