// The video pipeline: decode → faces per frame → one id per person.
import { type DecodeOptions, decodeFrames, type Frame } from './decode.js';
import { detectFaces, type FaceObservation, type FaceOptions, faceDescriptor } from './faces.js';
import { loadFaceModels } from './models.js';
import { PersonTracker, type TrackerOptions } from './tracker.js';

export interface TrackedFace extends FaceObservation {
  /** Stable per video: the same person keeps the same id after leaving and returning. */
  personId: number;
}

export interface FrameFaces {
  index: number;
  timeS: number;
  width: number;
  height: number;
  faces: TrackedFace[];
}

export interface AnalyzeOptions extends DecodeOptions, FaceOptions, TrackerOptions {
  /** Also hand the decoded frame to the caller (e.g. to publish it); default false. */
  keepFrames?: boolean;
  /** Share person ids across calls (e.g. the spans of one video); default: a new tracker per call. */
  tracker?: PersonTracker;
}

export type AnalyzedFrame = FrameFaces & { frame?: Frame };

/** Faces and people of frames from any source (decoded video, still images), in order. */
export async function* analyzeFrames(
  frames: AsyncIterable<Frame> | Iterable<Frame>,
  opts: Omit<AnalyzeOptions, keyof DecodeOptions> = {},
): AsyncGenerator<AnalyzedFrame> {
  const models = await loadFaceModels();
  const tracker = opts.tracker ?? new PersonTracker(opts);
  for await (const frame of frames) {
    const faces = await detectFaces(models, frame, opts);
    const ids = await tracker.assign(
      frame.timeS,
      faces.map((f) => f.box),
      (i) => faceDescriptor(models, frame, faces[i].landmarks),
    );
    const out: AnalyzedFrame = {
      index: frame.index,
      timeS: frame.timeS,
      width: frame.width,
      height: frame.height,
      faces: faces.map((f, i) => ({ ...f, personId: ids[i] })),
    };
    if (opts.keepFrames) out.frame = frame;
    yield out;
  }
}

/** Decodes `path` and yields every sampled frame with its tracked faces (frames without faces too). */
export async function* analyzeVideo(path: string, opts: AnalyzeOptions = {}): AsyncGenerator<AnalyzedFrame> {
  // Models first: a bad file still fails fast in decodeFrames' probe, and timing excludes loading.
  await loadFaceModels();
  yield* analyzeFrames(decodeFrames(path, opts), opts);
}
