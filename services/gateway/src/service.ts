// The gateway as an EmoVerse service: config from the environment, the model registry on NATS,
// au-scorer for media, readiness once a model is loaded. main.ts runs it; tests run it in-process.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry } from '@emoverse/bus';
import { ADAPTER_FILES, MODEL_FILES } from '@emoverse/models';
import { GatewayService } from '@emoverse/proto';
import { defineService, z } from '@emoverse/service-kit';
import { DEFAULT_LIMITS, type EmoVerseModelOptions } from '@emoverse/serving';
import { Gateway, type GatewayConfig, type ModelStarter } from './gateway.js';
import { AuScorerPipeline, type MediaPipeline } from './media.js';
import { playgroundFiles } from './playground.js';

/** Room for the text, conversation and framing of a request beside its media. */
const REQUEST_OVERHEAD_BYTES = 1 << 20;

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const gatewayConfig = {
  /** Model id in the registry (KV key, model.published filter). */
  EMOVERSE_MODEL_ID: z.string().min(1).default('emoverse-nano'),
  /** Served when the registry records no version: a folder written by EmoVerseLM.save... */
  EMOVERSE_MODEL_DIR: z.string().min(1).optional(),
  /** ...or else a fresh emoverse-nano with this seed, its tokenizer trained on these JSON(L) files. */
  EMOVERSE_MODEL_SEED: z.coerce.number().int().min(0).default(0),
  EMOVERSE_NANO_CORPUS: z.string().optional(),
  /** Where fetched versions and adapters are kept (default: a fresh temporary folder). */
  EMOVERSE_MODEL_CACHE: z.string().min(1).optional(),
  EMOVERSE_MAX_BATCH: int(16),
  EMOVERSE_MAX_WAIT_MS: z.coerce.number().min(0).default(5),
  EMOVERSE_MAX_QUEUE: int(256),
  /** Model worker threads per replica. */
  EMOVERSE_MODEL_WORKERS: int(1),
  /** Continuous batching: sequences each model worker decodes together (1: one request at a time). */
  EMOVERSE_MAX_SEQUENCES: int(16),
  /** Each worker's KV-cache budget in MiB: live sequences plus the prefix cache. */
  EMOVERSE_KV_CACHE_MB: int(256),
  /** Reuse the keys and values of identical prompt prefixes across requests. */
  EMOVERSE_PREFIX_CACHE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  EMOVERSE_ORT_THREADS: z.coerce.number().int().positive().optional(),
  EMOVERSE_ADAPTER_CAPACITY: int(4),
  EMOVERSE_MAX_TEXT_CHARS: int(DEFAULT_LIMITS.maxTextChars),
  EMOVERSE_MAX_IMAGE_BYTES: int(DEFAULT_LIMITS.maxImageBytes),
  EMOVERSE_MAX_VIDEO_BYTES: int(DEFAULT_LIMITS.maxVideoBytes),
  /** Bearer token clients must send (unset: no auth). */
  EMOVERSE_AUTH_TOKEN: z.string().min(8).optional(),
  /** host:port of au-scorer (unset: requests with media get UNAVAILABLE). */
  EMOVERSE_AU_SCORER_ADDR: z.string().min(1).optional(),
  EMOVERSE_ALLOW_MEDIA_PATHS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Origins allowed to call Connect / gRPC-web from other pages, comma-separated ('*': any); unset: none. */
  EMOVERSE_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  /** Serve the playground page at / (Connect on the same port). */
  EMOVERSE_PLAYGROUND: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
};

export interface GatewayServiceDeps {
  /** Replaces the model workers (tests of the serving path). */
  startModel?: ModelStarter;
  media?: MediaPipeline;
}

/** The gateway's settings from its environment. */
function gatewaySettings(c: z.infer<z.ZodObject<typeof gatewayConfig>>): GatewayConfig {
  return {
    modelId: c.EMOVERSE_MODEL_ID,
    maxBatchSize: c.EMOVERSE_MAX_BATCH,
    maxWaitMs: c.EMOVERSE_MAX_WAIT_MS,
    maxQueue: c.EMOVERSE_MAX_QUEUE,
    workers: c.EMOVERSE_MODEL_WORKERS,
    generation: {
      maxSequences: c.EMOVERSE_MAX_SEQUENCES,
      memoryBytes: c.EMOVERSE_KV_CACHE_MB * 2 ** 20,
      prefixCache: c.EMOVERSE_PREFIX_CACHE,
    },
    intraOpThreads: c.EMOVERSE_ORT_THREADS,
    adapterCapacity: c.EMOVERSE_ADAPTER_CAPACITY,
    limits: {
      ...DEFAULT_LIMITS,
      maxTextChars: c.EMOVERSE_MAX_TEXT_CHARS,
      maxImageBytes: c.EMOVERSE_MAX_IMAGE_BYTES,
      maxVideoBytes: c.EMOVERSE_MAX_VIDEO_BYTES,
    },
    token: c.EMOVERSE_AUTH_TOKEN,
    allowMediaPaths: c.EMOVERSE_ALLOW_MEDIA_PATHS,
  };
}

export function createGatewayService(deps: GatewayServiceDeps = {}) {
  return defineService({
    name: 'gateway',
    defaultPort: 50060,
    config: gatewayConfig,
    // NOT_SERVING until a model version is loaded.
    manualReadiness: true,
    async start(ctx) {
      const c = ctx.config;
      const cacheDir = c.EMOVERSE_MODEL_CACHE ?? mkdtempSync(join(tmpdir(), 'emoverse-gateway-'));
      const media =
        deps.media ??
        (c.EMOVERSE_AU_SCORER_ADDR ? new AuScorerPipeline(c.EMOVERSE_AU_SCORER_ADDR) : undefined);
      const gateway = new Gateway(gatewaySettings(c), {
        registry: ctx.telemetry.metrics,
        media,
        models: new ModelRegistry(ctx.bus, {
          modelId: c.EMOVERSE_MODEL_ID,
          cacheDir,
          files: { model: MODEL_FILES, adapter: ADAPTER_FILES },
        }),
        logger: ctx.logger,
        startModel: deps.startModel,
      });
      ctx.addService(GatewayService, gateway.handlers);
      // The same handlers over Connect and gRPC-web for browsers; bodies past the media limit are refused unread.
      ctx.serveBrowsers({
        corsOrigins: c.EMOVERSE_CORS_ORIGINS,
        readMaxBytes:
          Math.max(c.EMOVERSE_MAX_VIDEO_BYTES, c.EMOVERSE_MAX_IMAGE_BYTES) + REQUEST_OVERHEAD_BYTES,
        fallback: c.EMOVERSE_PLAYGROUND ? playgroundFiles() : undefined,
      });
      ctx.onShutdown(async () => {
        await gateway.close();
        media?.close();
      });
      const fallback: EmoVerseModelOptions = c.EMOVERSE_MODEL_DIR
        ? { dir: c.EMOVERSE_MODEL_DIR }
        : {
            nano: {
              seed: c.EMOVERSE_MODEL_SEED,
              corpusFiles: c.EMOVERSE_NANO_CORPUS?.split(',').filter(Boolean) ?? [],
            },
          };
      // The model loads in the background; health turns SERVING when it is ready.
      gateway
        .start({
          version: c.EMOVERSE_MODEL_DIR ? 'local' : `nano-seed-${c.EMOVERSE_MODEL_SEED}`,
          options: fallback,
        })
        .then(() => {
          ctx.setServing(true);
          ctx.logger.info({ version: gateway.holder.version }, 'model loaded; serving');
        })
        .catch((e: Error) => ctx.logger.error({ err: e.message }, 'no model could be loaded; not serving'));
    },
  });
}
