// frame-extractor's handlers: where a video comes from, how a rejected video is answered, the Extract
// and ExtractUpload RPCs and the video.submitted work-queue handler. The extraction itself is in
// extraction.ts / @emoverse/video.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BlobStore, blobBuckets, type Delivery, events, type VideoJobs } from '@emoverse/bus';
import type {
  BlobRef,
  ExtractRequest,
  ExtractUploadHeader,
  ExtractUploadRequest,
  FrameBatch,
  FrameExtractorService,
  VideoSubmitted,
} from '@emoverse/proto';
import { GrpcError, type ServiceImpl, status } from '@emoverse/service-kit';
import type { Logger } from '@emoverse/telemetry';
import { VideoError } from '@emoverse/video';
import { type ExtractionDefaults, errorInfo, runExtraction } from './extraction.js';

/** gRPC status for a video that cannot be used. */
export function grpcError(err: unknown): unknown {
  if (!(err instanceof VideoError)) return err;
  const code = err.code === 'NOT_FOUND' ? status.NOT_FOUND : status.INVALID_ARGUMENT;
  return new GrpcError(code, err.message);
}

/** A local path for a path or blob source; `done` removes any temporary copy. */
export async function localVideo(
  blobs: BlobStore,
  source:
    | { case: 'path'; value: string }
    | { case: 'blob'; value: BlobRef }
    | { case: undefined; value?: undefined },
): Promise<{ path: string; done: () => Promise<void> }> {
  if (source.case === 'path') return { path: source.value, done: async () => {} };
  if (source.case === 'blob') {
    const dir = await mkdtemp(join(tmpdir(), 'frame-extractor-'));
    const path = join(dir, source.value.name.replaceAll('/', '_'));
    try {
      await blobs.getToFile(source.value, path);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw new VideoError(
        'NOT_FOUND',
        `blob ${source.value.bucket}/${source.value.name}: ${(err as Error).message}`,
      );
    }
    return { path, done: () => rm(dir, { recursive: true, force: true }) };
  }
  throw new GrpcError(status.INVALID_ARGUMENT, 'no video source: give a path or a blob');
}

/**
 * video.submitted → FrameBatch events, one sequence per span. A video that cannot be used (missing,
 * corrupt, audio only) is answered with one error batch per span, so the job is never lost and the
 * message is acked; a transient failure (NATS, disk) throws and the message is redelivered. The job's
 * state (running at stage frames, progress per batch, failed with the reason) goes to `jobs`.
 */
export function videoSubmittedHandler(
  blobs: BlobStore,
  defaults: ExtractionDefaults,
  logger: Logger,
  jobs: VideoJobs,
) {
  return async (event: VideoSubmitted, delivery: Delivery): Promise<void> => {
    const spans = event.spans.length > 0 ? event.spans : [{ startS: 0, endS: 0, id: '' }];
    let local: { path: string; done: () => Promise<void> } | undefined;
    await jobs.extracting(event.jobId, spans.length, delivery.redelivered);
    try {
      local = await localVideo(blobs, event.source);
      await runExtraction(
        event.jobId,
        local.path,
        { fps: event.fps, maxFrames: 0, spans: event.spans },
        defaults,
        blobs,
        async (batch) => {
          await delivery.publish(events.framesExtracted, batch, {
            key: `s${batch.spanIndex}b${batch.batchIndex}`,
          });
          delivery.working();
          await jobs.framesPublished(batch);
        },
        event.attributes,
      );
    } catch (err) {
      if (!(err instanceof VideoError) && !(err instanceof GrpcError)) throw err;
      logger.warn({ jobId: event.jobId, err: (err as Error).message }, 'video rejected');
      const error = errorInfo(err);
      // Failed before its error batches go on, so the state says where the job stopped.
      await jobs.failed(event.jobId, 'frames', error);
      for (const [spanIndex, span] of spans.entries()) {
        await delivery.publish(
          events.framesExtracted,
          {
            jobId: event.jobId,
            spanIndex,
            span,
            batchIndex: 0,
            batchCount: 1,
            error,
            attributes: event.attributes,
            spanCount: spans.length,
          },
          { key: `s${spanIndex}b0` },
        );
      }
    } finally {
      await local?.done();
    }
  };
}

type Rpcs = ServiceImpl<typeof FrameExtractorService>;

/** Every batch of a video, for a unary answer; a video of which no span could be used is INVALID_ARGUMENT. */
async function extractAll(
  jobId: string,
  path: string,
  options: ExtractRequest['options'],
  defaults: ExtractionDefaults,
  blobs: BlobStore,
) {
  const batches: FrameBatch[] = [];
  const video = await runExtraction(jobId, path, options, defaults, blobs, async (b) => {
    batches.push(b);
  });
  if (batches.every((b) => b.error)) throw new GrpcError(status.INVALID_ARGUMENT, batches[0].error!.message);
  return { video, batches };
}

/** Extract: a video by path or blob, its frame batches in the answer. */
export function extractHandler(blobs: BlobStore, defaults: ExtractionDefaults): Rpcs['extract'] {
  return async (req) => {
    const jobId = req.jobId || randomUUID();
    const { path, done } = await localVideo(blobs, req.source);
    try {
      return { jobId, ...(await extractAll(jobId, path, req.options, defaults, blobs)) };
    } catch (err) {
      throw grpcError(err);
    } finally {
      await done();
    }
  };
}

/** Writes an upload stream (a header, then chunks) to `path`, refusing it past `maxBytes`; returns the header. */
async function receiveUpload(
  parts: AsyncIterable<ExtractUploadRequest>,
  path: string,
  maxBytes: number,
): Promise<ExtractUploadHeader> {
  let header: ExtractUploadHeader | undefined;
  let size = 0;
  const file = createWriteStream(path);
  for await (const p of parts) {
    if (p.part.case === 'header') {
      header = p.part.value;
      if (header.size > maxBytes)
        throw new GrpcError(status.RESOURCE_EXHAUSTED, `upload of ${header.size} bytes is over the limit`);
    } else if (p.part.case === 'chunk') {
      if (!header) throw new GrpcError(status.INVALID_ARGUMENT, 'the first message must be the header');
      size += p.part.value.length;
      if (size > maxBytes) throw new GrpcError(status.RESOURCE_EXHAUSTED, `upload over ${maxBytes} bytes`);
      if (!file.write(p.part.value)) await new Promise<void>((r) => file.once('drain', () => r()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    file.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  if (!header) throw new GrpcError(status.INVALID_ARGUMENT, 'no header');
  if (size === 0) throw new GrpcError(status.INVALID_ARGUMENT, 'empty upload');
  return header;
}

/** ExtractUpload: a streamed video, kept in the videos bucket, its frame batches in the answer. */
export function extractUploadHandler(
  blobs: BlobStore,
  defaults: ExtractionDefaults,
  maxUploadBytes: number,
): Rpcs['extractUpload'] {
  return async (parts) => {
    const dir = await mkdtemp(join(tmpdir(), 'frame-extractor-upload-'));
    try {
      const path = join(dir, 'upload');
      const header = await receiveUpload(parts, path, maxUploadBytes);
      const jobId = header.jobId || randomUUID();
      const name = `${jobId}/${header.filename || 'video'}`;
      const videoBlob = await blobs.putFile(blobBuckets.videos, name, path, header.contentType);
      return { jobId, ...(await extractAll(jobId, path, header.options, defaults, blobs)), videoBlob };
    } catch (err) {
      throw grpcError(err);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
