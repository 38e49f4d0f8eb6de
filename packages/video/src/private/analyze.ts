// The video pipeline: decode → faces per frame → one id per person. One FaceSession per call: the
// detector and face-api skip frames where face-tracking.ts and landmark-reuse.ts allow it.
import { type DecodeOptions, decodeFrames, type Frame } from './decode.js';
import { detectFaces, type FaceObservation, type FaceOptions, FaceSession, faceDescriptor } from './faces.js';
import { loadFaceModels } from './models.js';
import { PersonTracker, type TrackerOptions } from './tracker.js';

export interface TrackedFace extends FaceObservation {
  /** Stable per video: the same person keeps the same id after leaving and returning. */
  personId: number;
  /** face-api's 128-d descriptor of this face in this frame; set when `descriptors` was asked for. */
  descriptor?: Float32Array;
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
  /**
   * Compute every face's 128-d descriptor in every frame and keep it on the face (a face feature of
   * emoverse's T_v); default false: the tracker computes one only to re-identify a face. Costs about a
   * third more time per face. Person ids are the same either way.
   */
  descriptors?: boolean;
}

export type AnalyzedFrame = FrameFaces & { frame?: Frame };

/** Faces and people of frames from any source (decoded video, still images), in order. */
export async function* analyzeFrames(
  frames: AsyncIterable<Frame> | Iterable<Frame>,
  opts: Omit<AnalyzeOptions, keyof DecodeOptions> = {},
): AsyncGenerator<AnalyzedFrame> {
  const models = await loadFaceModels();
  const tracker = opts.tracker ?? new PersonTracker(opts);
  const session = new FaceSession();
  for await (const frame of frames) {
    const faces = await detectFaces(models, frame, opts, session);
    const descriptors: (Float32Array | undefined)[] = [];
    if (opts.descriptors) {
      for (const f of faces) descriptors.push(await faceDescriptor(models, frame, f.landmarks));
    }
    const ids = await tracker.assign(
      frame.timeS,
      faces.map((f) => f.box),
      async (i) => descriptors[i] ?? faceDescriptor(models, frame, faces[i].landmarks),
    );
    const out: AnalyzedFrame = {
      index: frame.index,
      timeS: frame.timeS,
      width: frame.width,
      height: frame.height,
      faces: faces.map((f, i) => {
        const d = descriptors[i];
        return d ? { ...f, personId: ids[i], descriptor: d } : { ...f, personId: ids[i] };
      }),
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
