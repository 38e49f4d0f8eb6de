// Raw facial measures of one face in one frame, in units of the inter-ocular distance (IOD) and in an
// eye-aligned frame (x along the eye line, y down), so they do not change with face size or in-plane
// roll. Eyes, cheeks and mouth come from the face mesh with iris refinement (it follows blinks and lip opening);
// brows from the 68-point landmarks (they follow brows better than the mesh).
import type { FaceGeometry, Point } from './types.js';

export const MEASURE_NAMES = [
  'browInnerHeight',
  'browOuterHeight',
  'browHeight',
  'browGap',
  'upperLidHeight',
  'lowerLidDepth',
  'cheekHeight',
  'eyeOpening',
  'noseBrow',
  'upperLipNose',
  'mouthWidth',
  'cornerLift',
  'lipsGap',
  'lipThickness',
  'chinLowerLip',
  'jaw',
] as const;
export type MeasureName = (typeof MEASURE_NAMES)[number];
export type Measures = Record<MeasureName, number>;

/** Maps points into the eye-aligned, IOD-normalised frame defined by two eye centres. */
function eyeFrame(leftEye: Point, rightEye: Point): (p: Point) => Point {
  const dx = rightEye.x - leftEye.x;
  const dy = rightEye.y - leftEye.y;
  const iod = Math.hypot(dx, dy) || 1;
  const c = dx / iod;
  const s = dy / iod;
  const ox = (leftEye.x + rightEye.x) / 2;
  const oy = (leftEye.y + rightEye.y) / 2;
  return (p) => {
    const x = p.x - ox;
    const y = p.y - oy;
    return { x: (x * c + y * s) / iod, y: (-x * s + y * c) / iod };
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const centre = (ps: Point[]): Point => ({ x: mean(ps.map((p) => p.x)), y: mean(ps.map((p) => p.y)) });

// MediaPipe mesh indices (subject's right eye is on the image's left).
const MESH = {
  rEyeCorners: [33, 133],
  lEyeCorners: [362, 263],
  rUpperLid: [158, 159, 160],
  rLowerLid: [153, 145, 144],
  lUpperLid: [385, 386, 387],
  lLowerLid: [380, 374, 373],
  cheekR: 50,
  cheekL: 280,
  browInnerR: 107,
  browInnerL: 336,
  noseBottom: 2,
  upperLipTop: 0,
  upperLipInner: 13,
  lowerLipInner: 14,
  lowerLipBottom: 17,
  mouthCornerR: 61,
  mouthCornerL: 291,
  chin: 152,
};

export function faceMeasures(face: Pick<FaceGeometry, 'landmarks' | 'mesh'>): Measures {
  // --- mesh: eyes, nose, mouth, jaw ---
  const mp = (i: number): Point => ({ x: face.mesh[i][0], y: face.mesh[i][1] });
  const rCorners = MESH.rEyeCorners.map(mp);
  const lCorners = MESH.lEyeCorners.map(mp);
  const m = eyeFrame(centre(rCorners), centre(lCorners));
  const q = (i: number) => m(mp(i));
  const cornerY = mean([...MESH.rEyeCorners, ...MESH.lEyeCorners].map((i) => q(i).y));
  const upper = [...MESH.rUpperLid, ...MESH.lUpperLid].map((i) => q(i).y);
  const lower = [...MESH.rLowerLid, ...MESH.lLowerLid].map((i) => q(i).y);
  const eyeOpening = mean(lower.map((y, k) => y - upper[k]));
  const browInner = centre([q(MESH.browInnerR), q(MESH.browInnerL)]);
  const nose = q(MESH.noseBottom);
  const lipTop = q(MESH.upperLipTop);
  const lipIn1 = q(MESH.upperLipInner);
  const lipIn2 = q(MESH.lowerLipInner);
  const lipBottom = q(MESH.lowerLipBottom);
  const cornerR = q(MESH.mouthCornerR);
  const cornerL = q(MESH.mouthCornerL);
  const chin = q(MESH.chin);

  // --- 68 landmarks: brows ---
  const L = face.landmarks;
  const l = eyeFrame(centre(L.slice(36, 42) as Point[]), centre(L.slice(42, 48) as Point[]));
  const lq = (i: number) => l(L[i]);
  const lEyeY = mean([36, 39, 42, 45].map((i) => lq(i).y));

  return {
    browInnerHeight: lEyeY - mean([20, 21, 22, 23].map((i) => lq(i).y)),
    browOuterHeight: mean([lq(36).y, lq(45).y]) - mean([17, 18, 25, 26].map((i) => lq(i).y)),
    browHeight: lEyeY - mean([17, 18, 19, 20, 21, 22, 23, 24, 25, 26].map((i) => lq(i).y)),
    browGap: lq(22).x - lq(21).x,
    upperLidHeight: cornerY - mean(upper),
    lowerLidDepth: mean(lower) - cornerY,
    cheekHeight: cornerY - mean([q(MESH.cheekR).y, q(MESH.cheekL).y]),
    eyeOpening,
    noseBrow: nose.y - browInner.y,
    upperLipNose: lipTop.y - nose.y,
    mouthWidth: cornerL.x - cornerR.x,
    cornerLift: (lipIn1.y + lipIn2.y) / 2 - (cornerR.y + cornerL.y) / 2,
    lipsGap: lipIn2.y - lipIn1.y,
    lipThickness: lipIn1.y - lipTop.y + (lipBottom.y - lipIn2.y),
    chinLowerLip: chin.y - lipBottom.y,
    jaw: chin.y - nose.y,
  };
}
