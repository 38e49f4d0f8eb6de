// The gateway assembled: a hot-swappable model (one worker thread per replica), the serving engine
// with its batcher and adapter LRU, the RPC handlers, metrics, and the model registry that decides
// which version runs. main.ts only reads config and starts the servers around it.

import { DigestMismatchError } from '@emoverse/bus';
import type { GatewayService, ModelPublished } from '@emoverse/proto';
import type { ServiceImpl } from '@emoverse/service-kit';
import {
  DEFAULT_LOOP,
  EMOVERSE_MODEL_MODULE,
  type EmoVerseModelOptions,
  type GenerationLoopOptions,
  type GenerationStats,
  type InputLimits,
  type LoadedModel,
  loadedModel,
  ModelHolder,
  readCalibration,
  sumGenerationStats,
  TaskEngine,
  type TaskModel,
  WorkerTaskModel,
} from '@emoverse/serving';
import type { Logger, Registry } from '@emoverse/telemetry';
import { gatewayImpl } from './handlers.js';
import type { MediaPipeline } from './media.js';
import { GatewayMetrics } from './metrics.js';

export interface GatewayConfig {
  modelId: string;
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Model worker threads per replica (batches run at once). */
  workers: number;
  adapterCapacity: number;
  limits: InputLimits;
  token?: string;
  allowMediaPaths?: boolean;
  /** ORT intra-op threads per worker. */
  intraOpThreads?: number;
  /** Continuous batching and prefix caching per worker (default: models' DEFAULT_LOOP). */
  generation?: GenerationLoopOptions;
}

/** Starts the model of a version: by default EmoVerseLM in worker threads. */
export type ModelStarter = (options: EmoVerseModelOptions, workers: number) => Promise<TaskModel>;

/** EmoVerseLM loaded once in each of `workers` worker threads; batches go round-robin. */
export const startWorkerModel: ModelStarter = async (options, workers) => {
  const all = await Promise.all(
    Array.from({ length: workers }, () => WorkerTaskModel.start(EMOVERSE_MODEL_MODULE, options)),
  );
  if (all.length === 1) return all[0];
  let next = 0;
  const pick = () => all[next++ % all.length];
  return {
    scoreAnswers: (...a) => pick().scoreAnswers(...a),
    generate: (...a) => pick().generate(...a),
    loadAdapter: async (name) => (await Promise.all(all.map((m) => m.loadAdapter(name)))).every(Boolean),
    unloadAdapter: async (name) => {
      await Promise.all(all.map((m) => m.unloadAdapter(name)));
    },
    dispose: async () => {
      await Promise.all(all.map((m) => m.dispose()));
    },
    generationStats: async () => sumGenerationStats(await Promise.all(all.map((m) => m.generationStats()))),
  };
};

/** Where versions come from (packages/bus' ModelRegistry over NATS KV and the object store, in service.ts). */
export interface VersionSource {
  /** Folder the model worker loads adapters from (<adapterDir>/<name>). */
  readonly adapterDir: string;
  current(): Promise<ModelPublished | undefined>;
  adapters(): Promise<ModelPublished[]>;
  watch(onPublished: (p: ModelPublished) => Promise<void> | void): Promise<{ stop(): Promise<void> }>;
  fetchCheckpoint(p: ModelPublished): Promise<string>;
  fetchAdapter(p: ModelPublished): Promise<string>;
}

export interface GatewayDeps {
  registry?: Registry;
  media?: MediaPipeline;
  models?: VersionSource;
  logger?: Logger;
  startModel?: ModelStarter;
}

export class Gateway {
  readonly holder: ModelHolder<LoadedModel>;
  readonly engine: TaskEngine;
  readonly metrics?: GatewayMetrics;
  /** The RPCs, for ctx.addService(GatewayService, gateway.handlers). */
  readonly handlers: ServiceImpl<typeof GatewayService>;
  private readonly versions = new Map<string, EmoVerseModelOptions>();
  private watching?: { stop(): Promise<void> };

  constructor(
    readonly config: GatewayConfig,
    private readonly deps: GatewayDeps = {},
  ) {
    const startModel = deps.startModel ?? startWorkerModel;
    this.holder = new ModelHolder<LoadedModel>({
      load: async (version) => {
        const options = this.versions.get(version);
        if (!options) throw new Error(`no model options for version ${version}`);
        const model = await startModel(
          { intraOpThreads: config.intraOpThreads, generation: config.generation, ...options },
          config.workers,
        );
        // the folder's decision rule (calibration.json) comes with the weights it was fitted for
        return loadedModel(
          model,
          config.adapterCapacity,
          options.dir ? readCalibration(options.dir) : undefined,
        );
      },
      dispose: (lm) => lm.model.dispose(),
      onSwitch: (version, previous) => {
        this.metrics?.onSwitch(version);
        deps.logger?.info({ version, previous }, 'model version switched');
      },
    });
    this.engine = new TaskEngine(this.holder, {
      maxBatchSize: config.maxBatchSize,
      maxWaitMs: config.maxWaitMs,
      maxQueue: config.maxQueue,
      concurrency: config.workers,
      generationSlots: (config.generation ?? DEFAULT_LOOP).maxSequences * config.workers,
      onBatch: (kind, info) => this.metrics?.onBatch(kind, info),
    });
    if (deps.registry) {
      this.metrics = new GatewayMetrics(deps.registry, {
        queueDepth: () => this.engine.queueDepth,
        generation: () => this.generationStats(),
      });
    }
    this.handlers = gatewayImpl({
      engine: this.engine,
      media: deps.media,
      limits: config.limits,
      modelId: config.modelId,
      token: config.token,
      allowMediaPaths: config.allowMediaPaths,
    });
  }

  get ready(): boolean {
    return this.holder.ready;
  }

  /** The current model's generation counters (continuous batching, prefix cache), if it keeps any. */
  async generationStats(): Promise<GenerationStats | undefined> {
    if (!this.holder.ready) return undefined;
    return this.holder.use(async ({ model }) => model.generationStats?.());
  }

  /** Loads a version in the background and switches to it once loaded (in-flight requests finish). */
  loadVersion(version: string, options: EmoVerseModelOptions): Promise<void> {
    this.versions.set(version, options);
    return this.holder.load(version).catch((e: Error) => {
      this.metrics?.reloads.inc({ outcome: 'failed' });
      this.deps.logger?.error(
        { version, err: e.message },
        'model version failed to load; the previous one keeps serving',
      );
      throw e;
    });
  }

  /**
   * Serves the version the registry records (or `fallback` when it records none), then follows
   * model.published: new checkpoints are loaded and switched to, new adapters fetched.
   */
  async start(fallback: { version: string; options: EmoVerseModelOptions }): Promise<void> {
    const models = this.deps.models;
    let initial = fallback;
    if (models) {
      for (const a of await models.adapters()) {
        await models.fetchAdapter(a).catch((e: Error) => {
          if (!isRefusal(e)) return;
          this.metrics?.reloads.inc({ outcome: 'refused' });
          this.deps.logger?.error(
            { adapter: a.adapterName, err: e.message },
            'adapter refused: its files do not match their published digests',
          );
        });
      }
      const current = await models.current();
      if (current?.checkpoint) {
        const dir = await models.fetchCheckpoint(current).catch((e: Error) => {
          if (isRefusal(e)) this.metrics?.reloads.inc({ outcome: 'refused' });
          throw e;
        });
        initial = { version: current.version, options: this.withAdapters({ dir }) };
      }
      this.watching = await models.watch((p) => this.onPublished(p));
    }
    await this.loadVersion(initial.version, this.withAdapters(initial.options));
  }

  private withAdapters(options: EmoVerseModelOptions): EmoVerseModelOptions {
    return this.deps.models ? { adapterDir: this.deps.models.adapterDir, ...options } : options;
  }

  private async onPublished(p: ModelPublished): Promise<void> {
    const models = this.deps.models!;
    const log = this.deps.logger;
    try {
      if (p.adapterName && p.adapter) {
        await models.fetchAdapter(p);
        await this.engine.forgetAdapter(p.adapterName);
        log?.info({ adapter: p.adapterName, version: p.version }, 'adapter published');
      } else if (p.checkpoint) {
        if (p.version === this.holder.version) return;
        const dir = await models.fetchCheckpoint(p);
        await this.loadVersion(p.version, this.withAdapters({ dir }));
      }
    } catch (e) {
      if (isRefusal(e)) {
        // Fetched files that do not match the digests the trainer published: never loaded.
        this.metrics?.reloads.inc({ outcome: 'refused' });
        log?.error(
          { version: p.version, adapter: p.adapterName || undefined, err: (e as Error).message },
          'model.published refused: the files do not match their published digests; the previous version keeps serving',
        );
      } else log?.error({ version: p.version, err: (e as Error).message }, 'model.published not applied');
    }
  }

  /** Stops following the registry, fails waiting requests, and frees the model workers. */
  async close(): Promise<void> {
    await this.watching?.stop();
    this.engine.close();
    await this.holder.close();
  }
}

/** A fetched version or adapter whose files do not match its published digests (DigestMismatchError). */
function isRefusal(e: unknown): boolean {
  return e instanceof DigestMismatchError;
}
