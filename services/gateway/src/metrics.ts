// The gateway's own Prometheus metrics: batch sizes, queue waits and model-call times, queue depth
// (read at scrape time), and model reloads. Request latency per RPC and status code comes from
// service-kit (emoverse_grpc_server_duration_seconds).

import type { BatchInfo, GenerationStats } from '@emoverse/serving';
import { Counter, Gauge, Histogram, type Registry } from '@emoverse/telemetry';

export class GatewayMetrics {
  readonly batchSize: Histogram<'kind'>;
  readonly batchWaitSeconds: Histogram<'kind'>;
  readonly batchRunSeconds: Histogram<'kind'>;
  readonly reloads: Counter<'outcome'>;
  readonly modelInfo: Gauge<'version'>;

  constructor(
    registry: Registry,
    read: { queueDepth: () => number; generation: () => Promise<GenerationStats | undefined> },
  ) {
    const { queueDepth } = read;
    this.batchSize = new Histogram({
      name: 'emoverse_gateway_batch_size',
      help: 'Requests per model call',
      labelNames: ['kind'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    });
    this.batchWaitSeconds = new Histogram({
      name: 'emoverse_gateway_batch_wait_seconds',
      help: 'Time requests waited in the batching queue',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
    this.batchRunSeconds = new Histogram({
      name: 'emoverse_gateway_batch_run_seconds',
      help: 'Duration of one batched model call',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    new Gauge({
      name: 'emoverse_gateway_queue_depth',
      help: 'Requests waiting for a batch',
      registers: [registry],
      collect() {
        this.set(queueDepth());
      },
    });
    generationGauges(registry, read.generation);
    this.reloads = new Counter({
      name: 'emoverse_gateway_model_reloads_total',
      help: 'Model versions and adapters: loaded, failed to load, or refused (files not matching their published digests)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.modelInfo = new Gauge({
      name: 'emoverse_gateway_model_info',
      help: 'The model version being served (value 1)',
      labelNames: ['version'],
      registers: [registry],
    });
  }

  onBatch(kind: string, info: BatchInfo): void {
    this.batchSize.observe({ kind }, info.size);
    for (const w of info.waitMs) this.batchWaitSeconds.observe({ kind }, w / 1000);
    this.batchRunSeconds.observe({ kind }, info.runMs / 1000);
  }

  onSwitch(version: string): void {
    this.modelInfo.reset();
    this.modelInfo.set({ version }, 1);
    this.reloads.inc({ outcome: 'loaded' });
  }
}

/**
 * Continuous batching and the prefix cache, read from the model at scrape time: live sequences,
 * rows per decode step, the prefix cache's hit rate (cached ÷ looked-up prompt tokens), and the
 * seconds spent in prefills and decode steps, all since the model was loaded. One scrape asks the
 * model once: the gauges share a read for a second.
 */
function generationGauges(registry: Registry, read: () => Promise<GenerationStats | undefined>): void {
  let last: { at: number; stats: Promise<GenerationStats | undefined> } | undefined;
  const once = () => {
    if (!last || performance.now() - last.at > 1000)
      last = { at: performance.now(), stats: read().catch(() => undefined) };
    return last.stats;
  };
  const gauge = (name: string, help: string, value: (s: GenerationStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const s = await once();
        if (s) this.set(value(s));
      },
    });
  gauge(
    'emoverse_gateway_generation_sequences',
    'Sequences being decoded (continuous batching)',
    (s) => s.active,
  );
  gauge('emoverse_gateway_decode_rows_per_step', 'Mean sequences per decode step', (s) =>
    s.steps ? s.rowSteps / s.steps : 0,
  );
  gauge(
    'emoverse_gateway_prefix_cache_hit_rate',
    'Prompt tokens served from the prefix cache ÷ tokens looked up',
    (s) => (s.lookedUpTokens ? s.hitTokens / s.lookedUpTokens : 0),
  );
  gauge(
    'emoverse_gateway_generation_prefill_seconds',
    'Seconds the model spent prefilling prompts since it was loaded',
    (s) => s.prefillSeconds,
  );
  gauge(
    'emoverse_gateway_generation_decode_seconds',
    'Seconds the model spent in decode steps since it was loaded',
    (s) => s.decodeSeconds,
  );
}
