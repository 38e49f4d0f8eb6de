// au-scorer's Score RPC on raw media: a video (path, blob or bytes), an image, or a list of frames
// goes through @emoverse/video here (the service extracts frames itself, with every face's descriptor
// when the caller asks for the face features of T_v), then through scoreSpan.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import type { BlobStore } from '@emoverse/bus';
import type { FrameGeometry } from '@emoverse/facs';
import { type AuScored, type ExtractOptions, type Media, TimeSpanSchema } from '@emoverse/proto';
import { GrpcError, status } from '@emoverse/service-kit';
import {
  type AnalyzedFrame,
  analyzeFrames,
  analyzeVideo,
  decodeImage,
  type Frame,
  isStillImage,
  MAX_IMAGE_PIXELS,
  PersonTracker,
  probeVideo,
  VideoError,
} from '@emoverse/video';
import { errorInfo, scoreSpan } from './scoring.js';

const toGeometry = (f: AnalyzedFrame): FrameGeometry => ({ index: f.index, timeS: f.timeS, faces: f.faces });

export function videoGrpcError(err: unknown): unknown {
  if (!(err instanceof VideoError)) return err;
  return new GrpcError(err.code === 'NOT_FOUND' ? status.NOT_FOUND : status.INVALID_ARGUMENT, err.message);
}

type Output = { frames: boolean; features: boolean };
type FramesSource = Extract<Media['source'], { case: 'frames' }>['value'];

/** Still images (the frames of a list, or one image) decoded upright and scored as one span. */
async function scoreImages(
  jobId: string,
  images: Uint8Array[],
  timeS: readonly number[],
  nameOf: (i: number) => string,
  output: Output,
) {
  const frames: Frame[] = [];
  for (const [i, bytes] of images.entries()) {
    const name = nameOf(i);
    if (bytes.length === 0) throw new GrpcError(status.INVALID_ARGUMENT, `${name} is empty`);
    try {
      frames.push(await decodeImage(bytes, i, timeS[i] ?? i));
    } catch (err) {
      const what = `an image of at most ${MAX_IMAGE_PIXELS / 1e6} megapixels`;
      throw new GrpcError(status.INVALID_ARGUMENT, `${name} is not ${what}: ${(err as Error).message}`);
    }
  }
  const geometry: FrameGeometry[] = [];
  // The face features of T_v need every face's descriptor in every frame.
  for await (const f of analyzeFrames(frames, { descriptors: output.features })) geometry.push(toGeometry(f));
  return scoreSpan({ jobId, spanIndex: 0, spanCount: 1 }, geometry, output.frames, output.features);
}

/** A list of frames (bytes or blobs): decoded, analysed, scored as one span. */
async function scoreFrames(jobId: string, src: FramesSource, output: Output, blobs: BlobStore) {
  const images: Uint8Array[] = [...src.images];
  for (const ref of src.refs) images.push(await blobs.get(ref));
  if (images.length === 0) throw new GrpcError(status.INVALID_ARGUMENT, 'media.frames holds no image');
  return scoreImages(jobId, images, src.timeS, (i) => `media.frames[${i}]`, output);
}

/** The media file to decode: its path, or the blob or bytes written into `dir`. */
async function mediaPath(src: Media['source'], dir: string, blobs: BlobStore): Promise<string> {
  if (src.case === 'path') return src.value;
  const path = join(dir, 'media');
  if (src.case === 'blob') {
    await blobs.getToFile(src.value, path).catch((err: Error) => {
      throw new GrpcError(status.NOT_FOUND, `blob ${src.value.bucket}/${src.value.name}: ${err.message}`);
    });
  } else if (src.case === 'video') {
    if (src.value.length === 0) throw new GrpcError(status.INVALID_ARGUMENT, `media.${src.case} is empty`);
    await writeFile(path, src.value);
  } else throw new GrpcError(status.INVALID_ARGUMENT, 'media has no source');
  return path;
}

interface VideoScoring {
  jobId: string;
  path: string;
  /** The spans scored (one over the whole file when none is given). */
  spans: readonly { startS: number; endS: number; id: string }[];
  fps?: number;
  output: Output;
}

/** A video or image file: each span's frames analysed (one tracker across spans) and scored. */
async function scoreVideo(v: VideoScoring, durationS: number): Promise<AuScored[]> {
  const list = v.spans.length > 0 ? v.spans : [{ startS: 0, endS: 0, id: '' }];
  const tracker = new PersonTracker();
  const out: AuScored[] = [];
  for (const [spanIndex, span] of list.entries()) {
    const ctx = {
      jobId: v.jobId,
      spanIndex,
      spanCount: list.length,
      span: create(TimeSpanSchema, { startS: span.startS, endS: span.endS || durationS, id: span.id }),
    };
    const geometry: FrameGeometry[] = [];
    try {
      const frames = analyzeVideo(v.path, {
        fps: v.fps,
        startS: span.startS,
        endS: span.endS || undefined,
        tracker,
        descriptors: v.output.features,
      });
      for await (const f of frames) geometry.push(toGeometry(f));
      out.push(scoreSpan(ctx, geometry, v.output.frames, v.output.features));
    } catch (err) {
      if (!(err instanceof VideoError) || err.code !== 'EMPTY_SPAN') throw err;
      const r = scoreSpan(ctx, [], false);
      r.error = errorInfo(err.code, err.message);
      out.push(r);
    }
  }
  return out;
}

export async function scoreMedia(
  jobId: string,
  media: Media,
  options: ExtractOptions | undefined,
  defaultFps: number,
  output: Output,
  blobs: BlobStore,
): Promise<AuScored[]> {
  const dir = await mkdtemp(join(tmpdir(), 'au-scorer-'));
  try {
    const src = media.source;
    if (src.case === 'frames') return [await scoreFrames(jobId, src.value, output, blobs)];
    // A still (bytes, or an image file by path or blob) is decoded by sharp: upright by its EXIF
    // orientation, refused above MAX_IMAGE_PIXELS.
    if (src.case === 'image')
      return [await scoreImages(jobId, [src.value], [0], () => 'media.image', output)];
    const path = await mediaPath(src, dir, blobs);
    if (await isStillImage(path)) {
      return [await scoreImages(jobId, [await readFile(path)], [0], () => `media.${src.case}`, output)];
    }
    const info = await probeVideo(path);
    const spans = media.spans.length > 0 ? media.spans : (options?.spans ?? []);
    const fps = options?.fps || Math.min(defaultFps, info.fps);
    return await scoreVideo({ jobId, path, spans, fps, output }, info.durationS);
  } catch (err) {
    throw videoGrpcError(err);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
