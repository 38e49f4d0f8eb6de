/** The 17 action units OpenFace reports as intensities (0–5), in OpenFace's column order. */
export const AU_NAMES = [
  'AU01',
  'AU02',
  'AU04',
  'AU05',
  'AU06',
  'AU07',
  'AU09',
  'AU10',
  'AU12',
  'AU14',
  'AU15',
  'AU17',
  'AU20',
  'AU23',
  'AU25',
  'AU26',
  'AU45',
] as const;
export type AuName = (typeof AU_NAMES)[number];

/** One intensity per AU, 0 (absent) to 5 (maximum), OpenFace's scale. */
export type AuVector = Record<AuName, number>;

/** face-api's seven expression classes, in @emoverse/video's EXPRESSIONS order (the wire's order too). */
export const EXPRESSION_NAMES = [
  'neutral',
  'happy',
  'sad',
  'angry',
  'fearful',
  'disgusted',
  'surprised',
] as const;
export type ExpressionName = (typeof EXPRESSION_NAMES)[number];

export interface Point {
  x: number;
  y: number;
}

export interface HeadPose {
  pitch: number;
  yaw: number;
  roll: number;
}

/**
 * What the AU geometry needs from one face in one frame. Structurally a subset of @emoverse/video's
 * TrackedFace, so its output can be passed as is.
 */
export interface FaceGeometry {
  /** Stable per video. */
  personId: number;
  /** Detector/mesh confidence in [0, 1]. */
  score: number;
  /** iBUG 68 points (face-api), pixels. */
  landmarks: readonly Point[];
  /** MediaPipe mesh, 468 points + 10 iris points, [x, y, z] pixels. */
  mesh: readonly (readonly number[])[];
  pose: HeadPose;
  /** Expression probabilities; `neutral` picks the frames of the per-person neutral baseline. */
  expression?: Partial<Record<string, number>>;
  /** The face's 128-d identity descriptor in this frame (face-api), when it was computed. */
  descriptor?: ArrayLike<number>;
}

export interface FrameGeometry {
  index: number;
  timeS: number;
  faces: readonly FaceGeometry[];
}

export function zeroAus(): AuVector {
  return Object.fromEntries(AU_NAMES.map((a) => [a, 0])) as AuVector;
}
