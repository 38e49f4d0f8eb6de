// frame-extractor: gRPC Extract / ExtractUpload and the VideoSubmitted work queue → FrameBatch events.

import { events } from '@emoverse/bus';
import { FrameExtractorService } from '@emoverse/proto';
import { defineService, z } from '@emoverse/service-kit';
import type { ExtractionDefaults } from './extraction.js';
import { extractHandler, extractUploadHandler, videoSubmittedHandler } from './handlers.js';

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
      extract: extractHandler(blobs, defaults),
      extractUpload: extractUploadHandler(blobs, defaults, config.FRAME_EXTRACTOR_MAX_UPLOAD_BYTES),
    });

    // The work queue: every replica shares the durable consumer. The job's state goes to KV.
    const jobs = bus.videoJobs();
    await bus.consume(events.videoSubmitted, videoSubmittedHandler(blobs, defaults, logger, jobs), {
      durable: 'frame-extractor',
      concurrency: config.FRAME_EXTRACTOR_CONCURRENCY,
      onDeadLetter: jobs.onDeadLetter('frames'),
    });
  },
});
