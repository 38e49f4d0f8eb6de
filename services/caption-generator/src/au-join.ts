// Joins a SourceRecord to the AuScored of the same clip (job id + span id). Either may arrive first:
// scores wait in a bounded cache, sources wait (up to a limit) for their scores. One replica's memory:
// with several replicas, route a job's events to one of them (or share the cache through KV).
import type { AuScored } from '@emoverse/proto';
import { joinKey } from './records.js';

interface Waiter {
  resolve: (a: AuScored | undefined) => void;
  timer: NodeJS.Timeout;
}

export class AuJoin {
  private readonly scores = new Map<string, AuScored>();
  private readonly waiters = new Map<string, Set<Waiter>>();

  /** `maxScores`: scores kept for sources that have not arrived yet (oldest dropped first). */
  constructor(private readonly maxScores = 10_000) {}

  /** Stores scores and hands them to every source already waiting for them. */
  put(a: AuScored): void {
    const keys = [joinKey(a.jobId, a.span?.id ?? '')];
    if (a.spanCount <= 1) keys.push(joinKey(a.jobId, '')); // a one-span job also matches a source without span id
    for (const key of keys) {
      this.scores.delete(key);
      this.scores.set(key, a);
      for (const w of this.waiters.get(key) ?? []) {
        clearTimeout(w.timer);
        w.resolve(a);
      }
      this.waiters.delete(key);
    }
    while (this.scores.size > this.maxScores) this.scores.delete(this.scores.keys().next().value!);
  }

  /** The scores of a clip, waiting up to `timeoutMs` for them; undefined when none came. */
  wait(jobId: string, spanId: string, timeoutMs: number): Promise<AuScored | undefined> {
    const key = joinKey(jobId, spanId);
    const known = this.scores.get(key);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set<Waiter>();
      const w: Waiter = {
        resolve,
        timer: setTimeout(() => {
          set.delete(w);
          if (set.size === 0) this.waiters.delete(key);
          resolve(undefined);
        }, timeoutMs),
      };
      set.add(w);
      this.waiters.set(key, set);
    });
  }

  /** Sources currently waiting. */
  get pending(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }

  /** Releases every waiter (shutdown). */
  close(): void {
    for (const set of this.waiters.values()) {
      for (const w of set) {
        clearTimeout(w.timer);
        w.resolve(undefined);
      }
    }
    this.waiters.clear();
  }
}
