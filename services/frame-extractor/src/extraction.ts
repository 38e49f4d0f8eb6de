// frame-extractor's one piece of logic: run @emoverse/video over a video and turn the result into
// FrameBatch messages (frames as JPEG blobs, faces with their track, box, pose and geometry).
// Everything about decoding, faces and tracking lives in @emoverse/video.
import { create } from '@bufbuild/protobuf';
import type { BlobStore } from '@emoverse/bus';
import { blobBuckets } from '@emoverse/bus';
import {
  type BlobRef,
  type ErrorInfo,
  ErrorInfoSchema,
  type FrameBatch,
  FrameBatchSchema,
  FrameSchema,
  TimeSpanSchema,
  type VideoInfo,
  VideoInfoSchema,
} from '@emoverse/proto';
import {
  EXPRESSIONS,
  type ExtractedFrame,
  extractVideo,
  packFaceGeometry,
  type VideoError,
} from '@emoverse/video';

export const SERVICE = 'frame-extractor';

export interface ExtractionDefaults {
  /** Sampling rate when the request says 0. */
  fps: number;
  /** Frames per span when the request says 0. */
  maxFrames: number;
  /** A FrameBatch stays under this many bytes (NATS' default payload limit is 1 MiB). */
  maxBatchBytes: number;
}

export function errorInfo(err: VideoError | Error, retryable = false): ErrorInfo {
  // VideoError codes are strings (DECODE_FAILED, ...); anything else here is a request without a source.
  const code = 'code' in err && typeof err.code === 'string' ? err.code : 'INVALID_ARGUMENT';
  return create(ErrorInfoSchema, { code, message: err.message, service: SERVICE, retryable });
}

/** Splits a span's frames into batches of at most maxBytes (estimated from the face count). */
function splitFrames(frames: ExtractedFrame[], maxBytes: number): ExtractedFrame[][] {
  const out: ExtractedFrame[][] = [[]];
  let size = 0;
  for (const f of frames) {
    // ~4.4 kB of packed geometry per face, plus the frame's own fields and image ref.
    const bytes = 300 + f.faces.length * 4600;
    if (size + bytes > maxBytes && out[out.length - 1].length > 0) {
      out.push([]);
      size = 0;
    }
    out[out.length - 1].push(f);
    size += bytes;
  }
  return out;
}

/**
 * Extracts every span of the video at `path` and hands each FrameBatch to `emit`, in span order.
 * Throws VideoError when the video cannot be read at all (missing, corrupt, audio only); a span that
 * fails alone (zero length, past the end) becomes a batch that carries the error.
 */
export async function runExtraction(
  jobId: string,
  path: string,
  options:
    | { fps: number; maxFrames: number; spans: readonly { startS: number; endS: number; id: string }[] }
    | undefined,
  defaults: ExtractionDefaults,
  blobs: BlobStore,
  emit: (batch: FrameBatch) => Promise<void>,
  attributes: Record<string, string> = {},
): Promise<VideoInfo> {
  const spans = (options?.spans ?? []).map((s) => ({
    startS: s.startS,
    // end_s = 0 means "to the end"; a span with end_s <= start_s (> 0) is a zero-length span.
    endS: s.endS > 0 ? s.endS : undefined,
    id: s.id,
  }));
  const { info, spans: results } = await extractVideo(path, spans, {
    fps: options?.fps || defaults.fps,
    maxFrames: options?.maxFrames || defaults.maxFrames,
  });
  const video = create(VideoInfoSchema, {
    durationS: info.durationS,
    fps: info.fps,
    width: info.width,
    height: info.height,
    codec: info.codec,
    hasVideo: true,
  });
  const spanCount = Math.max(1, spans.length);
  for await (const r of results) {
    const span = create(TimeSpanSchema, {
      startS: r.span.startS,
      endS: r.span.endS ?? info.durationS,
      id: r.span.id ?? '',
    });
    const base = { jobId, spanIndex: r.spanIndex, span, fps: r.fps, video, attributes, spanCount };
    if (r.error) {
      await emit(
        create(FrameBatchSchema, { ...base, batchIndex: 0, batchCount: 1, error: errorInfo(r.error) }),
      );
      continue;
    }
    const images: BlobRef[] = [];
    for (const f of r.frames) {
      images.push(
        await blobs.put(blobBuckets.frames, `${jobId}/s${r.spanIndex}/f${f.index}.jpg`, f.jpeg, 'image/jpeg'),
      );
    }
    const parts = splitFrames(r.frames, defaults.maxBatchBytes);
    let k = 0;
    for (const [batchIndex, part] of parts.entries()) {
      await emit(
        create(FrameBatchSchema, {
          ...base,
          batchIndex,
          batchCount: parts.length,
          frames: part.map((f) =>
            create(FrameSchema, {
              index: f.index,
              timeS: f.timeS,
              image: images[k++],
              width: f.width,
              height: f.height,
              faces: f.faces.map((x) => ({
                trackId: x.personId,
                box: { x: x.box[0], y: x.box[1], width: x.box[2], height: x.box[3] },
                confidence: x.score,
                pose: x.pose,
                landmarks: packFaceGeometry(x),
                expressions: EXPRESSIONS.map((e) => x.expression[e]),
              })),
            }),
          ),
        }),
      );
    }
  }
  return video;
}
