// caption-generator: source records + AU scores -> EMT records. Wiring only: the handlers are in handlers.ts,
// the proto <-> EMT translation in records.ts, the paper's logic in @emoverse/emt and @emoverse/facs.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { facsCaptioner } from '@emoverse/emt';
import { CaptionGeneratorService } from '@emoverse/proto';
import { defineService, GrpcError, status, z } from '@emoverse/service-kit';
import { eriBackends } from './eri-backends.js';
import { startHandlers } from './handlers.js';
import { buildRecords } from './records.js';

await defineService({
  name: 'caption-generator',
  defaultPort: 50063,
  config: {
    /** The shared data folder; default: `shared` next to the repository. */
    EMOVERSE_SHARED: z.string().optional(),
    /** AU lists and phrases of the FER captions; default <EMOVERSE_SHARED>/data/facs/au_emotion.json. */
    CAPTION_AU_EMOTION_PATH: z.string().optional(),
    CAPTION_AU_WAIT_MS: z.coerce.number().int().positive().default(30_000),
    CAPTION_CONCURRENCY: z.coerce.number().int().positive().default(32),
    CAPTION_SEED: z.coerce.number().int().default(0),
    CAPTION_ERI_BACKEND: z.enum(['deterministic', 'openai', 'gateway']).default('deterministic'),
    CAPTION_ERI_URL: z.string().url().optional(),
    CAPTION_ERI_MODEL: z.string().optional(),
    CAPTION_ERI_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
    CAPTION_GATEWAY_ADDRESS: z.string().optional(),
  },
  async start(ctx) {
    const { bus, config, logger } = ctx;
    const shared = config.EMOVERSE_SHARED
      ? resolve(config.EMOVERSE_SHARED)
      : fileURLToPath(new URL('../../../../shared', import.meta.url));
    const table = config.CAPTION_AU_EMOTION_PATH ?? resolve(shared, 'data/facs/au_emotion.json');
    const eri = eriBackends({
      seed: config.CAPTION_SEED,
      timeoutMs: config.CAPTION_ERI_TIMEOUT_MS,
      openaiUrl: config.CAPTION_ERI_URL,
      openaiModel: config.CAPTION_ERI_MODEL,
      gatewayAddress: config.CAPTION_GATEWAY_ADDRESS,
      warn: (m) => logger.warn(m),
    });
    if (!eri.backends[config.CAPTION_ERI_BACKEND]) {
      throw new Error(
        `CAPTION_ERI_BACKEND=${config.CAPTION_ERI_BACKEND} needs its address (CAPTION_ERI_URL or CAPTION_GATEWAY_ADDRESS)`,
      );
    }
    const deps = {
      captioner: facsCaptioner(table),
      eri: eri.backends,
      defaultEri: config.CAPTION_ERI_BACKEND,
    };
    ctx.addService(CaptionGeneratorService, {
      async buildRecords(req) {
        try {
          return await buildRecords(req, deps);
        } catch (e) {
          const message = (e as Error).message;
          if (message.startsWith('unknown ERI backend'))
            throw new GrpcError(status.INVALID_ARGUMENT, message);
          throw e;
        }
      },
    });
    const running = await startHandlers(bus, deps, {
      auWaitMs: config.CAPTION_AU_WAIT_MS,
      concurrency: config.CAPTION_CONCURRENCY,
      seed: config.CAPTION_SEED,
      log: (msg, fields) => logger.info(fields ?? {}, msg),
    });
    ctx.onShutdown(async () => {
      await running.stop();
      eri.close();
    });
  },
}).main();
