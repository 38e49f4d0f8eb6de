// au-scorer: faces -> 17 AU intensities per frame -> S_f (eq. 1) -> peaks (eq. 2). Wiring only: the
// work-queue handler is in handlers.ts, the message mapping in scoring.ts, raw media in media.ts.
import { randomUUID } from 'node:crypto';
import { events } from '@emoverse/bus';
import { AuScorerService } from '@emoverse/proto';
import { defineService, GrpcError, status, z } from '@emoverse/service-kit';
import { loadFaceModels } from '@emoverse/video';
import { frameBatchHandler } from './handlers.js';
import { scoreMedia } from './media.js';
import { peakImages } from './peak-images.js';
import { framesToGeometry, scoreSpan } from './scoring.js';

await defineService({
  name: 'au-scorer',
  defaultPort: 50062,
  config: {
    AU_SCORER_FPS: z.coerce.number().positive().max(120).default(5),
    AU_SCORER_CONCURRENCY: z.coerce.number().int().positive().default(1),
  },
  async start(ctx) {
    const { bus, config } = ctx;
    ctx.addService(AuScorerService, {
      async score(req) {
        const jobId = req.jobId || randomUUID();
        if (req.input.case === 'frames') {
          const batch = req.input.value;
          if (batch.error)
            throw new GrpcError(status.FAILED_PRECONDITION, `frames carry an error: ${batch.error.message}`);
          const images = new Map(batch.frames.flatMap((f) => (f.image ? [[f.index, f.image] as const] : [])));
          const { geometry } = framesToGeometry(batch.frames);
          const ctx = {
            jobId,
            spanIndex: batch.spanIndex,
            spanCount: batch.spanCount || 1,
            span: batch.span,
            attributes: batch.attributes,
            images,
          };
          return { jobId, results: [scoreSpan(ctx, geometry, req.includeFrames, req.includeFeatures)] };
        }
        if (req.input.case === 'media') {
          await loadFaceModels();
          const results = await scoreMedia(
            jobId,
            req.input.value,
            req.options,
            config.AU_SCORER_FPS,
            { frames: req.includeFrames, features: req.includeFeatures },
            bus.blobs,
          );
          const fps = req.options?.fps || config.AU_SCORER_FPS;
          const images = req.includePeakImage
            ? await peakImages(req.input.value, results, fps, bus.blobs)
            : [];
          return { jobId, results, peakImages: images };
        }
        throw new GrpcError(status.INVALID_ARGUMENT, 'score: give frames or media');
      },
    });
    const jobs = bus.videoJobs();
    await bus.consume(events.framesExtracted, frameBatchHandler(bus, jobs), {
      durable: 'au-scorer',
      concurrency: config.AU_SCORER_CONCURRENCY,
      onDeadLetter: jobs.onDeadLetter('au'),
    });
  },
}).main();
