// The caption-generator's event handlers: AuScored -> the join cache; SourceRecord -> (wait for its clip's
// AU scores when FER is wanted) -> EMT records published on emoverse.emt.record.
import type { Bus, Delivery, WorkConsumer } from '@emoverse/bus';
import { events } from '@emoverse/bus';
import { type AuScored, type SourceRecord, Task } from '@emoverse/proto';
import { AuJoin } from './au-join.js';
import { type BuildDeps, buildRecords } from './records.js';

export interface HandlerOptions {
  /** How long a source that wants FER waits for its clip's AU scores before it is built without them. */
  auWaitMs: number;
  /** Sources handled at once (most of them are waiting for AU scores). */
  concurrency: number;
  seed: number;
  /** Durable consumer names (shared by replicas). */
  durables?: { sources: string; scores: string };
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface RunningHandlers {
  join: AuJoin;
  consumers: WorkConsumer[];
  stop(): Promise<void>;
}

/** Whether a source asks for FER (an empty task list means every task) and has a video job to wait for. */
export function wantsFer(s: SourceRecord): boolean {
  const all = s.tasks.every((t) => t === Task.UNSPECIFIED);
  return s.jobId !== '' && (all || s.tasks.includes(Task.FER));
}

export async function startHandlers(
  bus: Bus,
  deps: BuildDeps,
  opts: HandlerOptions,
): Promise<RunningHandlers> {
  const join = new AuJoin();
  const log = opts.log ?? (() => {});
  const scores = await bus.consume(
    events.auScored,
    (a: AuScored) => {
      join.put(a);
    },
    { durable: opts.durables?.scores ?? 'caption-generator-au' },
  );
  const sources = await bus.consume(
    events.sourceRecord,
    async (s: SourceRecord, d: Delivery) => {
      const au = wantsFer(s) ? await join.wait(s.jobId, s.span?.id ?? '', opts.auWaitMs) : undefined;
      const res = await buildRecords(
        { sources: [s], auScores: au ? [au] : [], tasks: [], eriBackend: '', seed: opts.seed },
        deps,
      );
      // Keyed by record id: a redelivered source republishes nothing new.
      for (const r of res.records) await d.publish(events.emtRecord, r, { key: r.id });
      if (res.dropped.length > 0) log('records dropped', { source: s.id, drops: res.dropCounts });
    },
    { durable: opts.durables?.sources ?? 'caption-generator', concurrency: opts.concurrency },
  );
  return {
    join,
    consumers: [scores, sources],
    async stop() {
      join.close();
      await Promise.all([scores.stop(), sources.stop()]);
    },
  };
}
