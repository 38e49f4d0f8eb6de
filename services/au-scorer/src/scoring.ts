// au-scorer's mapping between messages and @emoverse/facs: FrameBatch faces → FrameGeometry,
// AuAnalysis → AuScored. The AU geometry, baseline, S_f (eq. 1) and peaks (eq. 2) are in @emoverse/facs.
import { create } from '@bufbuild/protobuf';
import {
  type AuAnalysis,
  type AuVector,
  EXPRESSION_NAMES,
  type FrameGeometry,
  type NoPeakReason,
  noPeakReason,
  type PersonPeak,
  scoreAus,
} from '@emoverse/facs';
import {
  AU_NAMES,
  type AuScored,
  AuScoredSchema,
  type AuVector as AuVectorMsg,
  AuVectorSchema,
  type BlobRef,
  type ErrorInfo,
  ErrorInfoSchema,
  type Frame,
  PersonPeakSchema,
  type TimeSpan,
} from '@emoverse/proto';
import { unpackFaceGeometry } from '@emoverse/video';

export const SERVICE = 'au-scorer';

export function auVector(v: Record<string, number>): AuVectorMsg {
  return create(AuVectorSchema, { intensity: AU_NAMES.map((a) => v[a] ?? 0) });
}

/**
 * Faces of FrameBatch frames as AU-stage input, with their expression probabilities when the extractor
 * sent them; faces without full geometry (68 + mesh) are skipped.
 */
export function framesToGeometry(frames: readonly Frame[]): { geometry: FrameGeometry[]; skipped: number } {
  let skipped = 0;
  const geometry = frames.map((f) => ({
    index: f.index,
    timeS: f.timeS,
    faces: f.faces.flatMap((face) => {
      try {
        const { landmarks, mesh } = unpackFaceGeometry(face.landmarks);
        return [
          {
            personId: face.trackId,
            score: face.confidence,
            landmarks,
            mesh,
            pose: { pitch: face.pose?.pitch ?? 0, yaw: face.pose?.yaw ?? 0, roll: face.pose?.roll ?? 0 },
            // The neutral probability picks the baseline's frames, as on the media path.
            ...(face.expressions.length === EXPRESSION_NAMES.length
              ? { expression: Object.fromEntries(EXPRESSION_NAMES.map((e, k) => [e, face.expressions[k]])) }
              : {}),
          },
        ];
      } catch {
        skipped++;
        return [];
      }
    }),
  }));
  return { geometry, skipped };
}

/** NO_FACE's message per reason (the reason itself is in the error's details). */
const NO_PEAK_MESSAGE: Record<NoPeakReason, (frames: number) => string> = {
  no_face: (n) => (n === 1 ? 'no face found in the image' : `no face found in ${n} frames`),
  pose: () => 'every face is turned too far from the camera (profile or extreme pitch) to measure AUs',
  confidence: () => 'every face was detected with too low a confidence to measure AUs',
  too_few_frames: () => 'no person has enough usable frames for peak selection',
};

export interface SpanContext {
  jobId: string;
  spanIndex: number;
  spanCount: number;
  span?: TimeSpan;
  attributes?: Record<string, string>;
  /** Frame images by frame index, for the peaks' `frame` ref. */
  images?: Map<number, BlobRef>;
}

export function errorInfo(code: string, message: string, retryable = false): ErrorInfo {
  return create(ErrorInfoSchema, { code, message, service: SERVICE, retryable });
}

/**
 * Eq. 1–2 over one span's frames, as the AuScored event. A span without a usable face carries NO_FACE,
 * with details.reason saying why (facs' noPeakReason: no_face, pose, confidence, too_few_frames).
 * With `includeFeatures`, each face row also carries its expression probabilities and descriptor (the
 * face features of T_v, where the geometry had them); it implies `includeFrames`.
 */
export function scoreSpan(
  ctx: SpanContext,
  geometry: readonly FrameGeometry[],
  includeFrames = true,
  includeFeatures = false,
): AuScored {
  const analysis: AuAnalysis = scoreAus(geometry);
  const peakMsg = (p: PersonPeak) =>
    create(PersonPeakSchema, {
      trackId: p.personId,
      frameIndex: p.index,
      timeS: p.timeS,
      sF: p.S_f,
      aus: auVector(p.aus as AuVector),
      frame: ctx.images?.get(p.index),
    });
  const msg = create(AuScoredSchema, {
    jobId: ctx.jobId,
    spanIndex: ctx.spanIndex,
    spanCount: ctx.spanCount,
    span: ctx.span,
    attributes: ctx.attributes ?? {},
    hasFace: analysis.peak !== null,
    personPeaks: analysis.peaks.map(peakMsg),
    peak: analysis.peak ? peakMsg(analysis.peak) : undefined,
    baselines: Object.fromEntries([...analysis.baselines].map(([id, b]) => [id, auVector(b)])),
    // Which AUs are measured (summed into S_f, used for the peaks and FER captions) and which estimated.
    measured: AU_NAMES.map((a) => (analysis.sfAus as readonly string[]).includes(a)),
    faces:
      includeFrames || includeFeatures
        ? analysis.frames.map((f) => ({
            frameIndex: f.index,
            timeS: f.timeS,
            trackId: f.personId,
            aus: auVector(f.aus),
            sF: f.S_f,
            confidence: f.confidence,
            pose: f.pose,
            usable: !f.excluded,
            excludedReason: f.excluded ?? '',
            expressions: includeFeatures ? (f.expressions ?? []) : [],
            descriptor: includeFeatures && f.descriptor ? Array.from(f.descriptor) : [],
          }))
        : [],
  });
  const reason = noPeakReason(analysis);
  if (reason) {
    msg.error = errorInfo('NO_FACE', NO_PEAK_MESSAGE[reason](geometry.length));
    msg.error.details.reason = reason;
  }
  return msg;
}
