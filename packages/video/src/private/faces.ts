// One frame → the faces in it: human's detector, mesh and iris on a letterboxed frame, then face-api's 68
// landmarks and 7-class expression on square crops (face-api follows eyebrows better than human's mesh).
// Within a sequence (a FaceSession), the detector runs only as face-tracking.ts says (else human follows
// the faces by their mesh) and face-api only as landmark-reuse.ts says (else its last result is carried).
import type * as tfjs from '@tensorflow/tfjs-core';
import type { Frame } from './decode.js';
import { detectOnce, FaceTracking } from './face-tracking.js';
import { type Carried, type FaceApiMemory, LandmarkReuse } from './landmark-reuse.js';
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

/** State carried from frame to frame of one sequence: the detector schedule and face-api reuse. */
export class FaceSession {
  readonly tracking = new FaceTracking();
  readonly reuse = new LandmarkReuse<Record<Expression, number>>();
}

interface MeshFace {
  box: Box;
  score: number;
  mesh: [number, number, number][];
}

/**
 * The box human reports for a face on the letterboxed frame, from its unclamped box relative to the frame
 * (`boxRaw`) when human saw the frame without the padding: clamped to the square, as human clamps it.
 */
function squareClampedBox(raw: readonly number[], frame: Frame): Box {
  const side = Math.max(frame.width, frame.height);
  const x0 = raw[0] * frame.width;
  const y0 = raw[1] * frame.height;
  const x1 = x0 + raw[2] * frame.width;
  const y1 = y0 + raw[3] * frame.height;
  const [left, top] = [Math.max(0, x0), Math.max(0, y0)];
  return [
    Math.trunc(left),
    Math.trunc(top),
    Math.trunc(Math.min(side, x1) - left),
    Math.trunc(Math.min(side, y1) - top),
  ];
}

/** human's faces in the frame that pass the score, size and in-frame filters. */
async function meshFaces(
  models: FaceModels,
  image: tfjs.Tensor3D,
  frame: Frame,
  opts: FaceOptions,
  session?: FaceSession,
): Promise<MeshFace[]> {
  const minScore = opts.minScore ?? 0.5;
  const minSize = opts.minSize ?? 24;
  let square: tfjs.Tensor3D | undefined;
  const padded = () => {
    square ??= letterbox(models.tf, image);
    return square;
  };
  let result: Awaited<ReturnType<FaceTracking['detect']>>;
  try {
    result = session
      ? await session.tracking.detect(models, image, padded, frame.timeS)
      : { ...(await detectOnce(models, padded())), padded: true };
  } finally {
    if (square && square !== image) square.dispose();
  }
  if (result.error) throw new Error(`face detector: ${result.error}`);
  return result.face
    .map((f) => ({
      box: result.padded ? (f.box.map(Number) as Box) : squareClampedBox(f.boxRaw, frame),
      score: Math.min(f.boxScore, f.faceScore ?? 1),
      mesh: f.mesh,
    }))
    .filter((f) => f.score >= minScore && f.box[2] >= minSize && f.box[3] >= minSize)
    .filter((f) => f.box[0] < frame.width && f.box[1] < frame.height);
}

type Expressions = Record<Expression, number>;

/** Square crops of `boxes` from the float `image`, one 3-D tensor each, at face-api's input size. */
function landmarkCrops(models: FaceModels, image: tfjs.Tensor3D, frame: Frame, boxes: Box[]) {
  const { tf } = models;
  const crops = squareCrops(boxes, frame.width, frame.height, CROP_SCALE);
  const tensors = tf.tidy(() => {
    const batch = tf.image.cropAndResize(
      tf.expandDims(image, 0) as tfjs.Tensor4D,
      crops,
      crops.map(() => 0),
      [LANDMARK_INPUT, LANDMARK_INPUT],
    );
    // face-api batches an array of 3-D tensors (not a 4-D tensor with batch > 1).
    return tf.unstack(batch) as tfjs.Tensor3D[];
  });
  return { crops, tensors };
}

/** face-api's 68 landmarks, in frame pixels, of the crops `inputs` cut at `crops`. */
async function landmarks68(
  models: FaceModels,
  frame: Frame,
  crops: number[][],
  inputs: tfjs.Tensor3D[],
): Promise<Point[][]> {
  if (inputs.length === 0) return [];
  const marks = asArray(await models.faceapi.nets.faceLandmark68Net.detectLandmarks(inputs));
  return crops.map(([y1, x1, y2, x2], i) => {
    const sx = ((x2 - x1) * frame.width) / LANDMARK_INPUT;
    const sy = ((y2 - y1) * frame.height) / LANDMARK_INPUT;
    return marks[i].positions.map((p) => ({
      x: x1 * frame.width + p.x * sx,
      y: y1 * frame.height + p.y * sy,
    }));
  });
}

/** face-api's expression probabilities of the crops `inputs`. */
async function expressions(models: FaceModels, inputs: tfjs.Tensor3D[]): Promise<Expressions[]> {
  if (inputs.length === 0) return [];
  const raw = asArray(await models.faceapi.nets.faceExpressionNet.predictExpressions(inputs));
  return raw.map((r) => Object.fromEntries(EXPRESSIONS.map((e) => [e, Number(r[e] ?? 0)])) as Expressions);
}

/**
 * face-api's landmarks and expression of every face in `found`, computing only what `carried` lacks: the
 * landmark net on the faces without carried landmarks, the expression net on those without an expression.
 */
async function faceApiParts(
  models: FaceModels,
  image: tfjs.Tensor3D,
  frame: Frame,
  found: MeshFace[],
  carried: Carried<Expressions>[],
): Promise<FaceApiMemory<Expressions>[]> {
  const lmIdx = found.flatMap((_, i) => (carried[i].landmarks ? [] : [i]));
  const exIdx = found.flatMap((_, i) => (carried[i].expression ? [] : [i]));
  const need = [...new Set([...lmIdx, ...exIdx])].sort((x, y) => x - y);
  const { crops, tensors } = need.length
    ? landmarkCrops(
        models,
        image,
        frame,
        need.map((i) => found[i].box),
      )
    : { crops: [], tensors: [] };
  const at = (i: number) => need.indexOf(i);
  let marks: Point[][];
  let exprs: Expressions[];
  try {
    marks = await landmarks68(
      models,
      frame,
      lmIdx.map((i) => crops[at(i)]),
      lmIdx.map((i) => tensors[at(i)]),
    );
    exprs = await expressions(
      models,
      exIdx.map((i) => tensors[at(i)]),
    );
  } finally {
    for (const t of tensors) t.dispose();
  }
  const now = (i: number) => ({ mesh: found[i].mesh, timeS: frame.timeS });
  return found.map((_, i) => ({
    landmarks: carried[i].landmarks?.source ?? { value: marks[lmIdx.indexOf(i)], ...now(i) },
    expression: carried[i].expression ?? { value: exprs[exIdx.indexOf(i)], ...now(i) },
  }));
}

/**
 * The faces of one frame. With a `session` (one per sequence of frames), the detector and face-api run
 * only where face-tracking.ts and landmark-reuse.ts say; without one, everything runs on this frame.
 */
export async function detectFaces(
  models: FaceModels,
  frame: Frame,
  opts: FaceOptions = {},
  session?: FaceSession,
): Promise<FaceObservation[]> {
  // One float copy of the frame for both human (which would cast an int32 one) and face-api's crops.
  const image = models.tf.tidy(() =>
    models.tf.cast(frameTensor(models.tf, frame), 'float32'),
  ) as tfjs.Tensor3D;
  try {
    const found = await meshFaces(models, image, frame, opts, session);
    const carried: Carried<Expressions>[] =
      session?.reuse.reusable(found, frame.timeS) ?? found.map(() => ({}));
    const memory = await faceApiParts(models, image, frame, found, carried);
    session?.reuse.remember(
      found.map((f, i) => ({
        box: f.box,
        memory: memory[i],
        ran: { landmarks: !carried[i].landmarks, expression: !carried[i].expression },
      })),
    );
    return found.map((f, i) => {
      const landmarks = carried[i].landmarks?.points ?? memory[i].landmarks.value;
      const expression = memory[i].expression.value;
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
