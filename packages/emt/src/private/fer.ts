// FER records need a caption of the peak frame: AU_common(f, e) = AU_frame(f) ∩ AU_emotion(e), each common AU
// written as text. That logic belongs to @emoverse/facs; the EMT builder only needs this small interface,
// so any captioner (facs, or a test's) can be passed in.
import type { MeldEmotion } from '@emoverse/metrics';

/** AU intensities of the peak frame on OpenFace's 0-5 scale, keyed "AU01".."AU45". */
export type AuIntensities = Readonly<Record<string, number>>;

export interface FerCaptioner {
  /** The FER caption for a peak frame labelled `emotion` (neutral has a rule of its own in facs). */
  auCommon(auIntensities: AuIntensities, emotion: MeldEmotion): { caption: string; aus: string[] };
}

/**
 * Peak-frame AUs per clip, keyed by the record's video path ("MELD/train/dia0_utt0.mp4") or source id.
 * null = the clip was scored and no face was found.
 */
export type PeakAus = ReadonlyMap<string, AuIntensities | null>;
