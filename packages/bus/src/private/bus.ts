// The Bus: one NATS connection with typed JetStream publish, consume and subscribe, job state and blobs.
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { Registry } from '@emoverse/telemetry';
import {
  connect,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type NatsConnection,
  type ConnectionOptions as NatsConnectionOptions,
} from 'nats';
import { eventsOf, type Identity, inboxPrefix } from '../permissions.js';
import { type EventDef, events, kvBuckets } from '../subjects.js';
import { BlobStore } from './blobs.js';
import { type ConsumeOptions, consumeWork, type Handler, type WorkConsumer } from './consume.js';
import { ProcessedMarkers } from './dedupe.js';
import { JobStore } from './jobs.js';
import { BusMetrics } from './metrics.js';
import { type BusLogger, silentLogger } from './options.js';
import { type EventInit, type PublishOptions, type PublishResult, publishEvent } from './publish.js';
import {
  type BroadcastEvent,
  type SubscribeOptions,
  type Subscription,
  subscribeBroadcast,
} from './subscribe.js';
import { ensureStreams, openKv, openObjectStore, type TopologyOptions } from './topology.js';
import { VideoJobs } from './video-jobs.js';

export interface BusOptions {
  /** nats://host:port (one or several). */
  servers: string | string[];
  /** Connection name shown by the server (the service name). */
  name: string;
  logger?: BusLogger;
  /** Create every stream at connect, reporting one that exists with other settings (default true). */
  ensureStreams?: boolean;
  /**
   * Copies of every stream, KV bucket and object-store bucket (topology.ts): 1 for a single NATS node,
   * 3 for a three-node cluster (default 1; services read EMOVERSE_STREAM_REPLICAS).
   */
  replicas?: number;
  /** Nats-Msg-Id de-duplication window (default 10 minutes). */
  duplicateWindowMs?: number;
  /** How long consumer-side "already handled" markers live (default 24 h). */
  processedTtlMs?: number;
  /** Connection attempt timeout in ms (default 5000). */
  timeoutMs?: number;
  /** Prometheus registry for emoverse_bus_* metrics (e.g. telemetry.metrics). */
  metrics?: Registry;
  /**
   * The identity of permissions.ts this connection acts as: only its streams are declared at connect,
   * and its replies come to its own inbox prefix (the only one its NATS user may subscribe to).
   */
  identity?: Identity;
  /** Credentials and TLS for the connection (user/pass, token, authenticator, tls). */
  auth?: NatsAuthOptions;
}

/** The parts of the nats client's connection options that carry credentials and TLS. */
export type NatsAuthOptions = Pick<
  NatsConnectionOptions,
  'user' | 'pass' | 'token' | 'authenticator' | 'tls'
>;

/** A NATS connection with typed JetStream publish / consume / subscribe, job state and blobs. */
export class Bus {
  private readonly consumers = new Set<WorkConsumer>();
  private readonly subscriptions = new Set<Subscription>();
  private markers?: Promise<ProcessedMarkers>;
  private jobStore?: Promise<JobStore>;
  private videoJobStates?: VideoJobs;
  private drained?: Promise<void>;
  readonly blobs: BlobStore;
  private readonly metrics?: BusMetrics;
  private readonly kvs = new Map<string, Promise<KV>>();

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly logger: BusLogger,
    private readonly options: BusOptions,
  ) {
    this.blobs = new BlobStore((bucket) => openObjectStore(js, jsm, bucket, this.topology));
    if (options.metrics) this.metrics = new BusMetrics(options.metrics);
  }

  static async connect(options: BusOptions): Promise<Bus> {
    const nc = await connect({
      servers: options.servers,
      name: options.name,
      timeout: options.timeoutMs ?? 5_000,
      maxReconnectAttempts: -1,
      ...options.auth,
      ...(options.identity ? { inboxPrefix: inboxPrefix(options.identity) } : {}),
    });
    const jsm = await nc.jetstreamManager();
    const bus = new Bus(nc, nc.jetstream(), jsm, options.logger ?? silentLogger, options);
    if (options.ensureStreams ?? true) {
      await ensureStreams(
        jsm,
        options.identity ? eventsOf(options.identity) : Object.values(events),
        bus.topology,
      ).catch(async (err: Error) => {
        await nc.close();
        throw err;
      });
    }
    return bus;
  }

  /** The settings of streams and buckets this connection declares (topology.ts). */
  get topology(): TopologyOptions {
    return {
      replicas: this.options.replicas,
      duplicateWindowMs: this.options.duplicateWindowMs,
      processedTtlMs: this.options.processedTtlMs,
    };
  }

  /** Publishes an event (see PublishOptions.msgId for de-duplication). */
  publish<S extends DescMessage>(
    event: EventDef<S>,
    message: EventInit<S>,
    options?: PublishOptions,
  ): Promise<PublishResult> {
    this.metrics?.published.inc({ subject: event.subject });
    return publishEvent(this.js, event, message, options);
  }

  /** Handles a work event with the durable consumer options.durable, shared by all replicas. */
  async consume<S extends DescMessage>(
    event: EventDef<S>,
    handler: Handler<S>,
    options: ConsumeOptions<S>,
  ): Promise<WorkConsumer> {
    this.markers ??= ProcessedMarkers.open(this.kv(kvBuckets.processed));
    const c = await consumeWork(
      {
        nc: this.nc,
        js: this.js,
        jsm: this.jsm,
        logger: this.logger,
        markers: await this.markers,
        metrics: this.metrics,
      },
      event,
      handler,
      options,
    );
    this.consumers.add(c);
    return c;
  }

  /** Reads a broadcast event (every subscriber sees every event). */
  async subscribe<S extends DescMessage>(
    event: EventDef<S>,
    handler: (event: MessageShape<S>, meta: BroadcastEvent) => Promise<void> | void,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    const s = await subscribeBroadcast(this.js, this.logger, event, handler, options);
    this.subscriptions.add(s);
    return s;
  }

  /** Job state in KV. A failed open (e.g. NATS unreachable) is tried again on the next call. */
  jobs(): Promise<JobStore> {
    if (!this.jobStore) {
      const store = JobStore.open(this.js, this.kv(kvBuckets.jobs));
      this.jobStore = store;
      store.catch(() => {
        if (this.jobStore === store) this.jobStore = undefined;
      });
    }
    return this.jobStore;
  }

  /** The state of video jobs (frame-extractor, au-scorer), written as this connection's service (its name). */
  videoJobs(): VideoJobs {
    this.videoJobStates ??= new VideoJobs(() => this.jobs(), this.logger, this.options.name);
    return this.videoJobStates;
  }

  /**
   * A KV bucket of kvBuckets (e.g. kvBuckets.models for the model registry), created with its declared
   * settings; one that exists with other settings is reported (TopologyMismatchError).
   */
  kv(bucket: string): Promise<KV> {
    let kv = this.kvs.get(bucket);
    if (!kv) {
      kv = openKv(this.js, this.jsm, bucket, this.topology);
      this.kvs.set(bucket, kv);
      // A failed open (e.g. NATS unreachable) is tried again on the next call.
      kv.catch(() => this.kvs.delete(bucket));
    }
    return kv;
  }

  /**
   * Stops consuming (in-flight handlers finish and ack), then drains the connection so every
   * pending publish is flushed. Idempotent.
   */
  drain(): Promise<void> {
    this.drained ??= (async () => {
      await Promise.all([...this.consumers].map((c) => c.stop()));
      await Promise.all([...this.subscriptions].map((s) => s.stop()));
      if (!this.nc.isClosed()) await this.nc.drain();
    })();
    return this.drained;
  }

  /** Drains on the first of the signals, then calls onDrained (default: exit 0). Returns an uninstaller. */
  drainOnSignals(
    signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
    onDrained: () => void = () => process.exit(0),
  ): () => void {
    const handler = (signal: NodeJS.Signals) => {
      this.logger.info({ signal }, 'draining bus');
      void this.drain().finally(onDrained);
    };
    for (const s of signals) process.once(s, handler);
    return () => {
      for (const s of signals) process.off(s, handler);
    };
  }

  /** Closes at once without waiting for handlers (tests, fatal errors). */
  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

/** Connects to NATS and declares every stream. */
export function connectBus(options: BusOptions): Promise<Bus> {
  return Bus.connect(options);
}
