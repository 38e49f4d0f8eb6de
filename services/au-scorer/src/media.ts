// au-scorer's Score RPC on raw media: a video (path, blob or bytes), an image, or a list of frames
// goes through @emoverse/video here (the service extracts frames itself, with every face's descriptor
// when the caller asks for the face features of T_v), then through scoreSpan.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

export async function scoreMedia(
  jobId: string,
  media: Media,
  options: ExtractOptions | undefined,
  defaultFps: number,
  output: { frames: boolean; features: boolean },
  blobs: BlobStore,
): Promise<AuScored[]> {
  // The face features of T_v need every face's descriptor in every frame.
  const descriptors = output.features;
  const dir = await mkdtemp(join(tmpdir(), 'au-scorer-'));
  try {
    const src = media.source;
    if (src.case === 'frames') {
      const images: Uint8Array[] = [...src.value.images];
      for (const ref of src.value.refs) images.push(await blobs.get(ref));
      if (images.length === 0) throw new GrpcError(status.INVALID_ARGUMENT, 'media.frames holds no image');
      const frames: Frame[] = [];
      for (const [i, bytes] of images.entries()) {
        try {
          frames.push(await decodeImage(bytes, i, src.value.timeS[i] ?? i));
        } catch (err) {
          throw new GrpcError(
            status.INVALID_ARGUMENT,
            `media.frames[${i}] is not an image: ${(err as Error).message}`,
          );
        }
      }
      const geometry: FrameGeometry[] = [];
      for await (const f of analyzeFrames(frames, { descriptors })) geometry.push(toGeometry(f));
      return [scoreSpan({ jobId, spanIndex: 0, spanCount: 1 }, geometry, output.frames, output.features)];
    }
    let path: string;
    if (src.case === 'path') path = src.value;
    else if (src.case === 'blob') {
      path = join(dir, 'media');
      await blobs.getToFile(src.value, path).catch((err: Error) => {
        throw new GrpcError(status.NOT_FOUND, `blob ${src.value.bucket}/${src.value.name}: ${err.message}`);
      });
    } else if (src.case === 'video' || src.case === 'image') {
      if (src.value.length === 0) throw new GrpcError(status.INVALID_ARGUMENT, `media.${src.case} is empty`);
      path = join(dir, 'media');
      await writeFile(path, src.value);
    } else throw new GrpcError(status.INVALID_ARGUMENT, 'media has no source');

    const info = await probeVideo(path);
    const spans = media.spans.length > 0 ? media.spans : (options?.spans ?? []);
    const list = spans.length > 0 ? spans : [{ startS: 0, endS: 0, id: '' }];
    const tracker = new PersonTracker();
    const fps = options?.fps || (src.case === 'image' ? undefined : Math.min(defaultFps, info.fps));
    const out: AuScored[] = [];
    for (const [spanIndex, span] of list.entries()) {
      const ctx = {
        jobId,
        spanIndex,
        spanCount: list.length,
        span: create(TimeSpanSchema, { startS: span.startS, endS: span.endS || info.durationS, id: span.id }),
      };
      const geometry: FrameGeometry[] = [];
      try {
        for await (const f of analyzeVideo(path, {
          fps,
          startS: span.startS,
          endS: span.endS || undefined,
          tracker,
          descriptors,
        })) {
          geometry.push(toGeometry(f));
        }
        out.push(scoreSpan(ctx, geometry, output.frames, output.features));
      } catch (err) {
        if (!(err instanceof VideoError) || err.code !== 'EMPTY_SPAN') throw err;
        const r = scoreSpan(ctx, [], false);
        r.error = errorInfo(err.code, err.message);
        out.push(r);
      }
    }
    return out;
  } catch (err) {
    throw videoGrpcError(err);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
