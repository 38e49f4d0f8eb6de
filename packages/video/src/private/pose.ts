// Head pose from the 68 landmarks: fit a rigid generic face (six points, arbitrary units) under scaled
// orthographic projection (POS: a linear least-squares fit, then the two rows are orthonormalised).
// Good to a few degrees near frontal, which is what excluding extreme poses needs.
import type { Point } from './types.js';

export interface HeadPose {
  /** Rotation about the camera x axis (nodding), radians. */
  pitch: number;
  /** Rotation about the vertical axis (turning), radians. */
  yaw: number;
  /** In-plane rotation, radians. */
  roll: number;
}

// Generic face, y up, z towards the camera: nose tip, chin, outer eye corners, mouth corners.
const MODEL_INDEX = [30, 8, 36, 45, 48, 54];
const MODEL_3D: [number, number, number][] = [
  [0, 0, 0],
  [0, -330, -65],
  [-225, 170, -135],
  [225, 170, -135],
  [-150, -150, -125],
  [150, -150, -125],
];

const MEAN_3D = [0, 1, 2].map((k) => MODEL_3D.reduce((s, p) => s + p[k], 0) / MODEL_3D.length);
const CENTRED_3D = MODEL_3D.map((p) => [p[0] - MEAN_3D[0], p[1] - MEAN_3D[1], p[2] - MEAN_3D[2]]);
// (X^T X)^-1 X^T, computed once: the least-squares map from image points to projection rows.
const PSEUDO_INVERSE = (() => {
  const xtx = [0, 1, 2].map((i) => [0, 1, 2].map((j) => CENTRED_3D.reduce((s, p) => s + p[i] * p[j], 0)));
  const inv = invert3(xtx);
  return CENTRED_3D.map((p) => [0, 1, 2].map((i) => inv[i][0] * p[0] + inv[i][1] * p[1] + inv[i][2] * p[2]));
})();

function invert3(m: number[][]): number[][] {
  const [a, b, c] = m[0];
  const [d, e, f] = m[1];
  const [g, h, i] = m[2];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

const norm = (v: number[]) => Math.hypot(v[0], v[1], v[2]);

export function headPose(landmarks: readonly Point[]): HeadPose {
  const pts = MODEL_INDEX.map((i) => landmarks[i]);
  const mx = pts.reduce((s, p) => s + p.x, 0) / pts.length;
  const my = pts.reduce((s, p) => s + p.y, 0) / pts.length;
  const r1 = [0, 0, 0];
  const r2 = [0, 0, 0];
  pts.forEach((p, n) => {
    const u = p.x - mx;
    const v = -(p.y - my); // image y points down, the model's y up
    for (let k = 0; k < 3; k++) {
      r1[k] += u * PSEUDO_INVERSE[n][k];
      r2[k] += v * PSEUDO_INVERSE[n][k];
    }
  });
  const n1 = norm(r1);
  for (let k = 0; k < 3; k++) r1[k] /= n1;
  const dot = r1[0] * r2[0] + r1[1] * r2[1] + r1[2] * r2[2];
  for (let k = 0; k < 3; k++) r2[k] -= dot * r1[k];
  const n2 = norm(r2);
  for (let k = 0; k < 3; k++) r2[k] /= n2;
  const r3 = [r1[1] * r2[2] - r1[2] * r2[1], r1[2] * r2[0] - r1[0] * r2[2], r1[0] * r2[1] - r1[1] * r2[0]];
  // R = Rz · Ry · Rx with rows r1, r2, r3, in a y-up model frame; yaw and roll are negated to report
  // OpenFace's camera convention (y down, z away from the camera), where pitch keeps its sign.
  return {
    yaw: -Math.asin(Math.max(-1, Math.min(1, -r3[0]))),
    pitch: Math.atan2(r3[1], r3[2]),
    roll: -Math.atan2(r2[0], r1[0]),
  };
}
