// T_v of a clip from its scored frames, the one road for training and serving: the most expressive
// person's (eq. 2) usable frames, each as models' face features (17 AUs scaled to 0-1, 7 expression
// probabilities, 128-d descriptor), then evenly spaced frames as the visual tokens.
import { AU_NAMES } from '@emoverse/facs';
import { faceFrameFeatures, visualTokensFromFrames } from '@emoverse/models';

/** One face in one frame as scored: facs' AuFrame is one, and so is au-scorer's FaceAus mapped onto it. */
export interface ScoredFace {
  index: number;
  personId: number;
  /** The 17 intensities (0-5) by AU name (facs' AU_NAMES). */
  aus: Readonly<Record<string, number>>;
  /** Set when the frame takes no part in peak selection (pose, confidence). */
  excluded?: string;
  /** Expression probabilities in facs' EXPRESSION_NAMES order. */
  expressions?: ArrayLike<number>;
  /** The face's 128-d descriptor in this frame. */
  descriptor?: ArrayLike<number>;
}

/** A clip's scored frames (facs' AuAnalysis has this shape) and its peak person, if any. */
export interface ScoredClip {
  frames: readonly ScoredFace[];
  peak: { personId: number } | null | undefined;
}

const f32 = (v: ArrayLike<number>) => Float32Array.from(v);

/**
 * The per-frame face features of the clip's peak person: its frames that take part in peak selection
 * (not excluded for pose or confidence), in frame order. Values are taken at float32 precision, as
 * they travel between the services, so features computed in process and features read off
 * au-scorer's answer are equal to the bit. Throws when the clip has no peak, or when a frame lacks
 * its expression probabilities or descriptor (a scorer that was not asked for them, or predates them).
 */
export function faceFeatureFrames(clip: ScoredClip): Float32Array[] {
  const peak = clip.peak;
  if (!peak) throw new Error('the clip has no peak person (no usable face)');
  const own = clip.frames
    .filter((f) => f.personId === peak.personId && !f.excluded)
    .sort((a, b) => a.index - b.index);
  if (own.length === 0) throw new Error(`person ${peak.personId} has no usable frame`);
  return own.map((f) => {
    if (!f.expressions?.length || !f.descriptor?.length) {
      throw new Error(
        `frame ${f.index} of person ${f.personId} has no expression probabilities or descriptor: the face features of T_v need both`,
      );
    }
    return faceFrameFeatures({
      aus: f32(AU_NAMES.map((a) => f.aus[a])),
      expressions: f32(f.expressions),
      descriptor: f32(f.descriptor),
    });
  });
}

/**
 * T_v [n, D_v] of a clip: visualTokensFromFrames over faceFeatureFrames. The gateway hands the
 * per-frame features to the model, which takes its n of them by the same rule.
 */
export function clipVisualTokens(clip: ScoredClip, n: number): Float32Array {
  return visualTokensFromFrames(faceFeatureFrames(clip), n);
}
