// The JetStream streams: settings per event kind, and their idempotent creation at start-up.
import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType, type StreamConfig } from 'nats';
import { type EventDef, events, streamSubject } from '../subjects.js';
import { nanos } from './options.js';

const DAY_MS = 24 * 3600 * 1000;

/** Stream settings per event kind: work queues keep a message until acked, broadcasts for a while. */
export function streamConfig(
  event: EventDef,
  duplicateWindowMs: number,
): Partial<StreamConfig> & { name: string } {
  const base = {
    name: event.stream,
    subjects: [streamSubject(event)],
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    // Nats-Msg-Id de-duplication: a re-published event within this window is stored once.
    duplicate_window: nanos(duplicateWindowMs),
    num_replicas: 1,
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

/**
 * Creates or updates the streams of the given events (default: all). Idempotent and safe when
 * several services start at once: an identical add succeeds, a differing one becomes an update.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  defs: EventDef[] = Object.values(events),
  duplicateWindowMs = 10 * 60 * 1000,
): Promise<void> {
  const seen = new Set<string>();
  for (const event of defs) {
    if (seen.has(event.stream)) continue;
    seen.add(event.stream);
    const config = streamConfig(event, duplicateWindowMs);
    try {
      await jsm.streams.add(config);
    } catch (err) {
      const message = (err as Error).message;
      if (!/already in use|stream name already/i.test(message)) {
        throw new Error(`cannot create stream ${event.stream}: ${message}`);
      }
      // Retention cannot change on a live stream; everything else may.
      const { retention: _r, ...updatable } = config;
      await jsm.streams.update(event.stream, updatable);
    }
  }
}
