// Fixtures for specs of this package and of those that use its head pose: a generic face seen at a chosen yaw and pitch.
import type { Point } from './private/types.js';

/** A generic face (y up, z toward the camera) for the six landmarks the pose fit uses (68-point indices). */
const GENERIC_FACE: Record<number, [number, number, number]> = {
  30: [0, 0, 0],
  8: [0, -330, -65],
  36: [-225, 170, -135],
  45: [225, 170, -135],
  48: [-150, -150, -125],
  54: [150, -150, -125],
};

/**
 * 68 landmarks of the generic face rotated by yaw (about y) then pitch (about x), projected at scale 0.3
 * around (320, 240) into image coordinates (y down); the landmarks the pose fit does not read are (0, 0).
 */
export function genericFaceLandmarks(yawDeg: number, pitchDeg = 0): Point[] {
  const y = (yawDeg * Math.PI) / 180;
  const p = (pitchDeg * Math.PI) / 180;
  const pts: Point[] = Array.from({ length: 68 }, () => ({ x: 0, y: 0 }));
  for (const [i, [x0, y0, z0]] of Object.entries(GENERIC_FACE)) {
    const x1 = x0 * Math.cos(y) + z0 * Math.sin(y);
    const z1 = -x0 * Math.sin(y) + z0 * Math.cos(y);
    const y2 = y0 * Math.cos(p) - z1 * Math.sin(p);
    pts[Number(i)] = { x: 320 + 0.3 * x1, y: 240 - 0.3 * y2 };
  }
  return pts;
}
