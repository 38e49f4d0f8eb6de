// When to run human's face detector on a frame of a video, and when to follow the faces already found by
// their face mesh instead (@vladmandic/human's box cache: the box of each face is the previous frame's
// mesh box, so only the mesh and iris nets run).
//
// Policy (one FaceTracking per sequence of frames, e.g. one analyzeFrames call):
// - the detector runs on the first frame, then again at least every REDETECT_S seconds of video, so a face
//   that enters the picture is found within that time;
// - it runs on the next frame as soon as a face's mesh confidence (human's faceScore; the box score of a
//   followed face is the one of its last detection) falls below MIN_FOLLOW_SCORE;
// - it runs on every frame that follows a frame without faces (there is nothing to follow);
// - following hands human the frame without the letterbox padding the detector needs (human's crops
//   outside the frame read black either way), so its input-change check covers only the picture;
// - a frame is analysed again at once, with the detector on the letterboxed frame, when following found
//   fewer faces than the frame before (a face lost or left: one the mesh lost but the detector still sees
//   is kept), or when human would not follow: the frame differs from human's previous followed input by
//   more than SCENE_CUT (its cacheSensitivity: mean squared difference per channel / 255; cuts measure
//   50+, motion under 3) or has another size (human then detects itself, on the frame without padding);
// - the detector also runs whenever another sequence used human since this one's last frame (human's box
//   cache is one per process), and calls into human are serialised for the same reason;
// - human compares a followed frame with the last frame it followed in the process; after a detection,
//   when that frame was another sequence's, the detected frame is handed to human once with every model
//   off, so the comparison stays within the sequence and the outcome does not depend on earlier work.
// human's own configuration stays "detect on every frame" (models.ts): the following settings are set
// only for the duration of one call and restored after it, so other callers of human are unaffected.
import type * as tfjs from '@tensorflow/tfjs-core';
import type { FaceModels, HumanConfigLike, HumanFace } from './models.js';

export const REDETECT_S = 0.3;
export const MIN_FOLLOW_SCORE = 0.8;
export const SCENE_CUT = 10;

type HumanResult = { face: HumanFace[]; error?: string | null };

/** The process's last user of human's box cache. */
let lastUser: FaceTracking | undefined;
/** Whose frame human's input-change check compares the next followed frame with. */
let baseline: FaceTracking | undefined;
/** The tail of the queue of calls into human. */
let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every earlier call into human has finished. */
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn);
  queue = run.catch(() => undefined);
  return run;
}

type Mode = 'detect' | 'follow' | 'prime';

/** The settings `configure` changes, as they are in `config`. */
function settings(config: HumanConfigLike) {
  return {
    cacheSensitivity: config.cacheSensitivity,
    skipFrames: config.face.detector.skipFrames,
    skipTime: config.face.detector.skipTime,
    enabled: config.face.enabled,
  };
}

/** Writes `s` into human's live config. */
function configure(config: HumanConfigLike, s: ReturnType<typeof settings>): void {
  config.cacheSensitivity = s.cacheSensitivity;
  config.face.detector.skipFrames = s.skipFrames;
  config.face.detector.skipTime = s.skipTime;
  config.face.enabled = s.enabled;
}

/**
 * One call of human.detect: `detect` with human's own config (detector on every call); `follow` with the
 * box cache allowed; `prime` with every model off, which only stores `input` as the frame human's next
 * input-change check compares with.
 */
async function detectWith(models: FaceModels, input: tfjs.Tensor, mode: Mode): Promise<HumanResult> {
  const { human } = models;
  if (mode === 'detect' || !human.config) return human.detect(input);
  const saved = settings(human.config);
  const follow = mode === 'follow';
  configure(human.config, {
    cacheSensitivity: SCENE_CUT,
    skipFrames: follow ? Number.MAX_SAFE_INTEGER : saved.skipFrames,
    skipTime: follow ? Number.MAX_SAFE_INTEGER : saved.skipTime,
    enabled: follow,
  });
  try {
    return await human.detect(input);
  } finally {
    // human.detect replaces its config object with a merged copy: restore the one it holds now.
    configure(human.config, saved);
  }
}

/** human's faces on the letterboxed `input` with the detector, outside any sequence (e.g. a still image). */
export function detectOnce(models: FaceModels, input: tfjs.Tensor): Promise<HumanResult> {
  return serialised(() => {
    lastUser = undefined;
    return detectWith(models, input, 'detect');
  });
}

/** Per-sequence state of the policy in the file header. */
export class FaceTracking {
  private lastDetectS = -Infinity;
  private lastCount = 0;
  private weak = true;
  /** Frames analysed, and of them those the detector ran on (for tests and benchmarks). */
  frames = 0;
  detections = 0;

  private wantsDetection(timeS: number): boolean {
    if (lastUser !== this || this.weak || this.lastCount === 0) return true;
    return timeS - this.lastDetectS >= REDETECT_S || timeS < this.lastDetectS;
  }

  /**
   * human's faces on the frame at `timeS`, following or detecting per the policy. The detector gets the
   * letterboxed frame (`square()`); following gets `image` as it is (no detector to squash it), so human's
   * input-change check and crops cost less. `padded` says which one human saw.
   */
  detect(
    models: FaceModels,
    image: tfjs.Tensor,
    square: () => tfjs.Tensor,
    timeS: number,
  ): Promise<HumanResult & { padded: boolean }> {
    return serialised(async () => {
      this.frames++;
      let follow = !this.wantsDetection(timeS);
      lastUser = this;
      if (follow) baseline = this;
      let result = await detectWith(models, follow ? image : square(), follow ? 'follow' : 'detect');
      if (
        follow &&
        !result.error &&
        (models.human.config?.skipAllowed === false || result.face.length < this.lastCount)
      ) {
        follow = false;
        result = await detectWith(models, square(), 'detect');
      }
      if (!follow) {
        this.detections++;
        this.lastDetectS = timeS;
        if (baseline !== this) await detectWith(models, image, 'prime');
        baseline = this;
      }
      this.lastCount = result.face.length;
      this.weak = result.face.some((f) => (f.faceScore ?? 0) < MIN_FOLLOW_SCORE);
      return { ...result, padded: !follow };
    });
  }
}
