// frame-extractor: gRPC Extract / ExtractUpload and the VideoSubmitted work queue → FrameBatch events.

import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobBuckets, events } from '@emoverse/bus';
import { type ExtractUploadHeader, type FrameBatch, FrameExtractorService } from '@emoverse/proto';
import { defineService, GrpcError, status, z } from '@emoverse/service-kit';
import { type ExtractionDefaults, runExtraction } from './extraction.js';
import { grpcError, localVideo, videoSubmittedHandler } from './handlers.js';

export const frameExtractor = defineService({
  name: 'frame-extractor',
  defaultPort: 50061,
  config: {
    FRAME_EXTRACTOR_FPS: z.coerce.number().positive().max(120).default(5),
    FRAME_EXTRACTOR_MAX_FRAMES: z.coerce.number().int().positive().default(300),
    FRAME_EXTRACTOR_MAX_BATCH_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(512 * 1024),
    FRAME_EXTRACTOR_MAX_UPLOAD_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(1 << 30),
    FRAME_EXTRACTOR_CONCURRENCY: z.coerce.number().int().positive().default(1),
  },
  async start(ctx) {
    const { bus, config, logger } = ctx;
    const blobs = bus.blobs;
    const defaults: ExtractionDefaults = {
      fps: config.FRAME_EXTRACTOR_FPS,
      maxFrames: config.FRAME_EXTRACTOR_MAX_FRAMES,
      maxBatchBytes: config.FRAME_EXTRACTOR_MAX_BATCH_BYTES,
    };

    ctx.addService(FrameExtractorService, {
      async extract(req) {
        const jobId = req.jobId || randomUUID();
        const { path, done } = await localVideo(blobs, req.source);
        try {
          const batches: FrameBatch[] = [];
          const video = await runExtraction(jobId, path, req.options, defaults, blobs, async (b) => {
            batches.push(b);
          });
          if (batches.every((b) => b.error))
            throw new GrpcError(status.INVALID_ARGUMENT, batches[0].error!.message);
          return { jobId, video, batches };
        } catch (err) {
          throw grpcError(err);
        } finally {
          await done();
        }
      },
      async extractUpload(parts) {
        const dir = await mkdtemp(join(tmpdir(), 'frame-extractor-upload-'));
        try {
          let header: ExtractUploadHeader | undefined;
          let size = 0;
          const path = join(dir, 'upload');
          const file = createWriteStream(path);
          for await (const p of parts) {
            if (p.part.case === 'header') {
              header = p.part.value;
              if (p.part.value.size > config.FRAME_EXTRACTOR_MAX_UPLOAD_BYTES) {
                throw new GrpcError(
                  status.RESOURCE_EXHAUSTED,
                  `upload of ${p.part.value.size} bytes is over the limit`,
                );
              }
            } else if (p.part.case === 'chunk') {
              if (!header)
                throw new GrpcError(status.INVALID_ARGUMENT, 'the first message must be the header');
              size += p.part.value.length;
              if (size > config.FRAME_EXTRACTOR_MAX_UPLOAD_BYTES) {
                throw new GrpcError(
                  status.RESOURCE_EXHAUSTED,
                  `upload over ${config.FRAME_EXTRACTOR_MAX_UPLOAD_BYTES} bytes`,
                );
              }
              if (!file.write(p.part.value)) await new Promise<void>((r) => file.once('drain', () => r()));
            }
          }
          await new Promise<void>((resolve, reject) =>
            file.end((err?: Error | null) => (err ? reject(err) : resolve())),
          );
          if (!header) throw new GrpcError(status.INVALID_ARGUMENT, 'no header');
          if (size === 0) throw new GrpcError(status.INVALID_ARGUMENT, 'empty upload');
          const jobId = header.jobId || randomUUID();
          const videoBlob = await blobs.putFile(
            blobBuckets.videos,
            `${jobId}/${header.filename || 'video'}`,
            path,
            header.contentType,
          );
          const batches: FrameBatch[] = [];
          const video = await runExtraction(jobId, path, header.options, defaults, blobs, async (b) => {
            batches.push(b);
          });
          if (batches.every((b) => b.error))
            throw new GrpcError(status.INVALID_ARGUMENT, batches[0].error!.message);
          return { jobId, video, batches, videoBlob };
        } catch (err) {
          throw grpcError(err);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    });

    // The work queue: every replica shares the durable consumer.
    await bus.consume(events.videoSubmitted, videoSubmittedHandler(blobs, defaults, logger), {
      durable: 'frame-extractor',
      concurrency: config.FRAME_EXTRACTOR_CONCURRENCY,
    });
  },
});
