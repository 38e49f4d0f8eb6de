// One frame of a video (or an image) as JPEG with one person's face: for showing a peak frame with its face box and landmarks.
import { decodeFrames, type Frame } from './decode.js';
import { detectFaces, type FaceObservation, faceDescriptor } from './faces.js';
import { loadFaceModels } from './models.js';
import { descriptorDistance } from './tracker.js';
import type { Box, Point } from './types.js';
import { encodeFrameJpeg } from './wire.js';

export interface FrameImage {
  jpeg: Buffer;
  width: number;
  height: number;
  /** The chosen face, where one was found in this frame. */
  face?: { box: Box; landmarks: Point[] };
}

export interface FrameImageOptions {
  /** Sampling rate the time came from (the frame at timeS is decoded at this rate); default 5. */
  fps?: number;
  /** Descriptor of the person to show (their face in this frame); default: the largest face. */
  descriptor?: ArrayLike<number>;
}

/** The frame at `timeS` of the file at `path` (an image: its only frame). */
async function frameAt(path: string, timeS: number, fps: number): Promise<Frame | undefined> {
  const frames = decodeFrames(path, { fps, startS: timeS, endS: timeS + 1 / fps });
  try {
    for await (const f of frames) return f;
    return undefined;
  } finally {
    await frames.return(undefined);
  }
}

/** The face nearest the descriptor, or the largest one. */
async function choose(frame: Frame, faces: FaceObservation[], descriptor?: ArrayLike<number>) {
  if (faces.length <= 1 || !descriptor) {
    return faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
  }
  const models = await loadFaceModels();
  const target = Float32Array.from(descriptor);
  let best = faces[0];
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const f of faces) {
    const d = descriptorDistance(await faceDescriptor(models, frame, f.landmarks), target);
    if (d < bestDistance) [best, bestDistance] = [f, d];
  }
  return best;
}

/** Decodes the frame at `timeS`, finds the person's face in it, and encodes the frame as JPEG. */
export async function frameImage(
  path: string,
  timeS: number,
  options: FrameImageOptions = {},
): Promise<FrameImage | undefined> {
  const frame = await frameAt(path, Math.max(0, timeS), options.fps ?? 5);
  if (!frame) return undefined;
  const faces = await detectFaces(await loadFaceModels(), frame);
  const face = faces.length ? await choose(frame, faces, options.descriptor) : undefined;
  return {
    jpeg: await encodeFrameJpeg(frame),
    width: frame.width,
    height: frame.height,
    face: face ? { box: face.box, landmarks: face.landmarks } : undefined,
  };
}
