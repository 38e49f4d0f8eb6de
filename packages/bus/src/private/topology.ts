// The bus topology declared in code: every stream, KV bucket and object-store bucket with its settings and replica count, created at start-up and checked against what exists.
import {
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type KvOptions,
  type ObjectStore,
  type ObjectStoreOptions,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from 'nats';
import { blobBuckets, type EventDef, events, kvBuckets, streamSubject } from '../subjects.js';
import { nanos } from './options.js';
import { retryWhileUnavailable } from './retry.js';

const DAY_MS = 24 * 3600 * 1000;

/** The settings the whole topology takes from configuration. */
export interface TopologyOptions {
  /** Copies of every stream and bucket: 1 for a single NATS node, 3 for a three-node cluster (default 1). */
  replicas?: number;
  /** Nats-Msg-Id de-duplication window of the event streams (default 10 minutes). */
  duplicateWindowMs?: number;
  /** How long consumer-side "already handled" markers live (default 24 h). */
  processedTtlMs?: number;
  /** How long creating a stream or bucket is retried while the cluster has no leader for it (default 60 s). */
  retryForMs?: number;
}

type Resolved = Required<TopologyOptions>;

function resolve(options: TopologyOptions = {}): Resolved {
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5)
    throw new Error(`stream replicas must be an integer from 1 to 5 (JetStream's limit), got ${replicas}`);
  return {
    replicas,
    duplicateWindowMs: options.duplicateWindowMs ?? 10 * 60 * 1000,
    processedTtlMs: options.processedTtlMs ?? DAY_MS,
    retryForMs: options.retryForMs ?? 60_000,
  };
}

/** One setting whose existing value differs from the declared one. */
export interface SettingDifference {
  setting: string;
  existing: unknown;
  declared: unknown;
}

/**
 * A stream or bucket exists with other settings than the code declares (e.g. one replica where three
 * are declared). It is reported, never reused as it is: the operator decides whether to edit it or
 * change the configuration.
 */
export class TopologyMismatchError extends Error {
  constructor(
    readonly kind: 'stream' | 'KV bucket' | 'object store',
    readonly resource: string,
    readonly differences: SettingDifference[],
  ) {
    const listed = differences
      .map((d) => `${d.setting} is ${JSON.stringify(d.existing)}, declared ${JSON.stringify(d.declared)}`)
      .join('; ');
    super(
      `${kind} ${resource} already exists with other settings (${listed}); it is not reused. ` +
        'Edit or remove it (e.g. `nats stream edit`), or configure the bus to match ' +
        '(EMOVERSE_STREAM_REPLICAS for num_replicas).',
    );
    this.name = 'TopologyMismatchError';
  }
}

/** Stream settings per event kind: work queues keep a message until acked, broadcasts for a while. */
export function streamConfig(
  event: EventDef,
  options: TopologyOptions = {},
): Partial<StreamConfig> & { name: string } {
  const { replicas, duplicateWindowMs } = resolve(options);
  const base = {
    name: event.stream,
    subjects: [streamSubject(event)],
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    // Nats-Msg-Id de-duplication: a re-published event within this window is stored once.
    duplicate_window: nanos(duplicateWindowMs),
    num_replicas: replicas,
  };
  if (event.kind === 'work') {
    return { ...base, retention: RetentionPolicy.Workqueue, max_age: 0 };
  }
  const keepMs = event === events.deadLetter ? 14 * DAY_MS : 7 * DAY_MS;
  return {
    ...base,
    retention: RetentionPolicy.Limits,
    max_age: nanos(keepMs),
    duplicate_window: nanos(Math.min(duplicateWindowMs, keepMs)),
  };
}

/** The settings of every KV bucket of subjects.ts, by bucket name. */
export function kvBucketOptions(bucket: string, options: TopologyOptions = {}): Partial<KvOptions> {
  const { replicas, processedTtlMs } = resolve(options);
  const own: Record<string, Partial<KvOptions>> = {
    [kvBuckets.jobs]: { history: 5 },
    [kvBuckets.processed]: { history: 1, ttl: processedTtlMs },
    [kvBuckets.models]: { history: 1 },
  };
  const settings = own[bucket];
  if (!settings)
    throw new Error(
      `KV bucket ${bucket} is not declared (kvBuckets: ${Object.values(kvBuckets).join(', ')})`,
    );
  return { ...settings, replicas, storage: StorageType.File };
}

/** The settings of every object-store bucket of subjects.ts. */
export function objectStoreOptions(
  bucket: string,
  options: TopologyOptions = {},
): Partial<ObjectStoreOptions> {
  const { replicas } = resolve(options);
  if (!(Object.values(blobBuckets) as string[]).includes(bucket))
    throw new Error(
      `object-store bucket ${bucket} is not declared (blobBuckets: ${Object.values(blobBuckets).join(', ')})`,
    );
  return { replicas, storage: StorageType.File };
}

/** The differences between an existing stream's config and the declared settings (only those declared). */
export function settingDifferences(
  existing: Partial<StreamConfig>,
  declared: Partial<StreamConfig>,
): SettingDifference[] {
  const out: SettingDifference[] = [];
  for (const [setting, want] of Object.entries(declared)) {
    if (want === undefined) continue;
    const have = (existing as Record<string, unknown>)[setting];
    if (JSON.stringify(have) !== JSON.stringify(want)) out.push({ setting, existing: have, declared: want });
  }
  return out;
}

/** Why creating a stream failed, with the hint an operator needs for the usual cause. */
function creationError(kind: string, name: string, replicas: number, err: Error): Error {
  const hint = /replicas > 1 not supported|insufficient resources|no suitable peers/i.test(err.message)
    ? ` (${replicas} replicas need a NATS cluster of at least ${replicas} JetStream nodes; set EMOVERSE_STREAM_REPLICAS=1 for a single node)`
    : '';
  return new Error(`cannot create ${kind} ${name} with ${replicas} replica(s): ${err.message}${hint}`, {
    cause: err,
  });
}

/** A JetStream API call at start-up, retried while the cluster elects leaders or is busy (bounded). */
function whenAvailable<T>(kind: string, name: string, options: Resolved, call: () => Promise<T>): Promise<T> {
  return retryWhileUnavailable(options.retryForMs, call, (last, attempts, waited) =>
    creationError(
      kind,
      name,
      options.replicas,
      new Error(`${last.message} (${attempts} attempts over ${waited} ms)`),
    ),
  );
}

/** Checks an existing stream against the declared settings; throws TopologyMismatchError on a difference. */
async function checkExisting(
  jsm: JetStreamManager,
  kind: TopologyMismatchError['kind'],
  resource: string,
  stream: string,
  declared: Partial<StreamConfig>,
  options: TopologyOptions,
): Promise<void> {
  const info = await whenAvailable(kind, resource, resolve(options), () => jsm.streams.info(stream));
  const differences = settingDifferences(info.config, declared);
  if (differences.length) throw new TopologyMismatchError(kind, resource, differences);
}

/** The settings of a stream that are compared with an existing one. */
function comparedStreamSettings(config: Partial<StreamConfig>): Partial<StreamConfig> {
  const { retention, storage, subjects, max_age, duplicate_window, num_replicas, discard } = config;
  return { retention, storage, subjects, max_age, duplicate_window, num_replicas, discard };
}

/**
 * Creates the streams of the given events (default: all) with the declared settings. Safe when several
 * services start at once (an identical add succeeds); a stream that exists with other settings is
 * reported (TopologyMismatchError), never silently reused or changed.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  defs: EventDef[] = Object.values(events),
  options: TopologyOptions = {},
): Promise<void> {
  const resolved = resolve(options);
  const seen = new Set<string>();
  for (const event of defs) {
    if (seen.has(event.stream)) continue;
    seen.add(event.stream);
    const config = streamConfig(event, options);
    try {
      await whenAvailable('stream', event.stream, resolved, () => jsm.streams.add(config));
    } catch (err) {
      if (!/already in use|stream name already/i.test((err as Error).message))
        throw creationError('stream', event.stream, resolved.replicas, err as Error);
      await checkExisting(jsm, 'stream', event.stream, event.stream, comparedStreamSettings(config), options);
      // The server refused the add, so something differs even if not among the settings compared above.
      throw new TopologyMismatchError('stream', event.stream, [
        { setting: 'config', existing: 'other settings', declared: (err as Error).message },
      ]);
    }
  }
}

/**
 * Opens a declared bucket (a KV bucket or an object store, each kept in a stream of its own): creates
 * it with its declared settings, or reports an existing one whose stream differs.
 */
async function openBucket<T>(
  jsm: JetStreamManager,
  kind: 'KV bucket' | 'object store',
  bucket: string,
  o: { stream: string; replicas?: number; compared: Partial<StreamConfig>; options: TopologyOptions },
  create: () => Promise<T>,
): Promise<T> {
  const opened = await whenAvailable(kind, bucket, resolve(o.options), create).catch((err: Error) => {
    throw err.message.startsWith('cannot create') ? err : creationError(kind, bucket, o.replicas ?? 1, err);
  });
  await checkExisting(jsm, kind, bucket, o.stream, o.compared, o.options);
  return opened;
}

/** Opens a declared KV bucket, creating it with its declared settings, or reporting an existing one that differs. */
export function openKv(
  js: JetStreamClient,
  jsm: JetStreamManager,
  bucket: string,
  options: TopologyOptions = {},
): Promise<KV> {
  const declared = kvBucketOptions(bucket, options);
  const compared = {
    num_replicas: declared.replicas,
    max_msgs_per_subject: declared.history,
    max_age: nanos(declared.ttl ?? 0),
    storage: declared.storage,
  };
  return openBucket(
    jsm,
    'KV bucket',
    bucket,
    { stream: `KV_${bucket}`, replicas: declared.replicas, compared, options },
    () => js.views.kv(bucket, declared),
  );
}

/** Opens a declared object-store bucket, creating it with its declared settings, or reporting an existing one that differs. */
export function openObjectStore(
  js: JetStreamClient,
  jsm: JetStreamManager,
  bucket: string,
  options: TopologyOptions = {},
): Promise<ObjectStore> {
  const declared = objectStoreOptions(bucket, options);
  const compared = { num_replicas: declared.replicas, storage: declared.storage };
  return openBucket(
    jsm,
    'object store',
    bucket,
    { stream: `OBJ_${bucket}`, replicas: declared.replicas, compared, options },
    () => js.views.os(bucket, declared),
  );
}
