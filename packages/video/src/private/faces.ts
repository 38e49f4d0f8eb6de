// One frame → the faces in it: human's detector on a letterboxed frame, then face-api's 68 landmarks
// and 7-class expression on square crops (face-api follows eyebrows better than human's mesh).
import type * as tfjs from '@tensorflow/tfjs-core';
import type { Frame } from './decode.js';
import type { FaceModels } from './models.js';
import { type HeadPose, headPose } from './pose.js';
import { type Box, EXPRESSIONS, type Expression, type Point } from './types.js';

export interface FaceObservation {
  box: Box;
  /** Detector confidence in [0, 1]. */
  score: number;
  /** iBUG 68-point layout, frame pixels. */
  landmarks: Point[];
  /** MediaPipe face mesh (468 points, then 10 iris points), frame pixels; z in the same scale. */
  mesh: [number, number, number][];
  pose: HeadPose;
  expression: Record<Expression, number>;
}

export interface FaceOptions {
  /** Detections below this confidence are dropped (default 0.5). */
  minScore?: number;
  /** Faces smaller than this many pixels (box side) are dropped (default 24). */
  minSize?: number;
}

const LANDMARK_INPUT = 112;
// face-api's landmark net was trained on boxes a little looser than blazeface's.
const CROP_SCALE = 1.25;

export function frameTensor(tf: FaceModels['tf'], frame: Frame): tfjs.Tensor3D {
  return tf.tensor3d(frame.rgb, [frame.height, frame.width, 3], 'int32');
}

/**
 * Squares the frame by padding bottom/right with black: the detector resizes its input to 256×256, and a
 * wide frame squashed that way hides faces. Padding only after the content keeps box coordinates unchanged.
 */
export function letterbox(tf: FaceModels['tf'], image: tfjs.Tensor3D): tfjs.Tensor3D {
  const [h, w] = image.shape;
  const side = Math.max(h, w);
  if (h === w) return image;
  return tf.pad(image, [
    [0, side - h],
    [0, side - w],
    [0, 0],
  ]);
}

/** Square crops (normalised [y1, x1, y2, x2]) around boxes, scaled by `scale`. */
function squareCrops(boxes: Box[], width: number, height: number, scale: number): number[][] {
  return boxes.map(([x, y, w, h]) => {
    const side = Math.max(w, h) * scale;
    const cx = x + w / 2;
    const cy = y + h / 2;
    return [
      (cy - side / 2) / height,
      (cx - side / 2) / width,
      (cy + side / 2) / height,
      (cx + side / 2) / width,
    ];
  });
}

function asArray<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

export async function detectFaces(
  models: FaceModels,
  frame: Frame,
  opts: FaceOptions = {},
): Promise<FaceObservation[]> {
  const { tf, human, faceapi } = models;
  const minScore = opts.minScore ?? 0.5;
  const minSize = opts.minSize ?? 24;
  const image = frameTensor(tf, frame);
  try {
    const square = letterbox(tf, image);
    let result: Awaited<ReturnType<typeof human.detect>>;
    try {
      result = await human.detect(square);
    } finally {
      if (square !== image) square.dispose();
    }
    if (result.error) throw new Error(`face detector: ${result.error}`);
    const found = result.face
      .map((f) => ({
        box: f.box.map(Number) as Box,
        score: Math.min(f.boxScore, f.faceScore ?? 1),
        mesh: f.mesh,
      }))
      .filter((f) => f.score >= minScore && f.box[2] >= minSize && f.box[3] >= minSize)
      .filter((f) => f.box[0] < frame.width && f.box[1] < frame.height);
    if (found.length === 0) return [];
    const crops = squareCrops(
      found.map((f) => f.box),
      frame.width,
      frame.height,
      CROP_SCALE,
    );
    const batch = tf.tidy(() =>
      tf.image.cropAndResize(
        tf.expandDims(tf.cast(image, 'float32'), 0) as tfjs.Tensor4D,
        crops,
        crops.map(() => 0),
        [LANDMARK_INPUT, LANDMARK_INPUT],
      ),
    );
    // face-api batches an array of 3-D tensors (not a 4-D tensor with batch > 1).
    const inputs = found.length === 1 ? batch : (tf.unstack(batch) as tfjs.Tensor3D[]);
    let marks: { positions: Point[] }[];
    let expressions: Record<string, number>[];
    try {
      marks = asArray(await faceapi.nets.faceLandmark68Net.detectLandmarks(inputs));
      expressions = asArray(await faceapi.nets.faceExpressionNet.predictExpressions(inputs));
    } finally {
      batch.dispose();
      if (Array.isArray(inputs)) for (const t of inputs) t.dispose();
    }
    return found.map((f, i) => {
      const [y1, x1, y2, x2] = crops[i];
      const sx = ((x2 - x1) * frame.width) / LANDMARK_INPUT;
      const sy = ((y2 - y1) * frame.height) / LANDMARK_INPUT;
      const landmarks = marks[i].positions.map((p) => ({
        x: x1 * frame.width + p.x * sx,
        y: y1 * frame.height + p.y * sy,
      }));
      const expression = Object.fromEntries(
        EXPRESSIONS.map((e) => [e, Number(expressions[i][e] ?? 0)]),
      ) as Record<Expression, number>;
      return { box: f.box, score: f.score, landmarks, mesh: f.mesh, pose: headPose(landmarks), expression };
    });
  } finally {
    image.dispose();
  }
}

/** face-api's 128-d identity descriptor of a face, from a crop around its landmarks. */
export async function faceDescriptor(
  models: FaceModels,
  frame: Frame,
  landmarks: Point[],
): Promise<Float32Array> {
  const { tf, faceapi } = models;
  const xs = landmarks.map((p) => p.x);
  const ys = landmarks.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  const box: Box = [x, y, Math.max(...xs) - x, Math.max(...ys) - y];
  const [crop] = squareCrops([box], frame.width, frame.height, 1.1);
  const image = frameTensor(tf, frame);
  const batch = tf.tidy(() =>
    tf.image.cropAndResize(
      tf.expandDims(tf.cast(image, 'float32'), 0) as tfjs.Tensor4D,
      [crop],
      [0],
      [150, 150],
    ),
  );
  image.dispose();
  try {
    return asArray(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(batch))[0];
  } finally {
    batch.dispose();
  }
}
