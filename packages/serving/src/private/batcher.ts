// Dynamic batching: concurrent requests are queued and run together, up to `maxBatchSize` at a
// time, once the batch is full or its oldest request has waited `maxWaitMs`. Only requests with
// the same key (task, adapter, label set) share a batch, since one model call serves one batch.
//
// Admission control lives here too: the queue of waiting requests is bounded by `maxQueue`, and
// a request beyond it is refused at once with an ExhaustedError carrying a retry-after estimate,
// rather than waiting behind work the server cannot finish in time.
//
// A request leaves the queue as soon as its deadline passes or its AbortSignal fires, so it frees
// its slot and never runs. A request that is already running cannot be stopped inside the model
// call, but its caller is answered at once and the result is discarded.

import { ExhaustedError, ServingError } from './errors.js';

export interface BatchInfo {
  key: string;
  size: number;
  /** How long each request of the batch waited in the queue, in ms. */
  waitMs: number[];
  /** How long the model call took, in ms. */
  runMs: number;
}

export interface BatcherOptions<I, O> {
  maxBatchSize: number;
  maxWaitMs: number;
  /** Requests allowed to wait (not counting running ones); more are refused with RESOURCE_EXHAUSTED. */
  maxQueue: number;
  /** Batches allowed to run at once (one per model worker). Default 1. */
  concurrency?: number;
  /** Runs one batch; must return one output per input, in order. */
  run: (inputs: I[], key: string) => Promise<O[]>;
  /** Requests with different keys never share a batch. Default: one key for all. */
  key?: (input: I) => string;
  /** Called after every batch (for metrics). */
  onBatch?: (info: BatchInfo) => void;
}

export interface SubmitOptions {
  /** Absolute deadline, ms since the epoch (Date.now() clock). */
  deadline?: number;
  signal?: AbortSignal;
}

interface Pending<I, O> {
  input: I;
  key: string;
  enqueuedAt: number;
  settled: boolean;
  resolve: (o: O) => void;
  reject: (e: Error) => void;
  cleanup: () => void;
}

export class DynamicBatcher<I, O> {
  private readonly opts: Required<Omit<BatcherOptions<I, O>, 'onBatch'>> &
    Pick<BatcherOptions<I, O>, 'onBatch'>;
  private readonly queue: Pending<I, O>[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;
  /** Exponential moving average of one batch's run time, for the retry-after estimate. */
  private avgRunMs: number;

  constructor(options: BatcherOptions<I, O>) {
    if (options.maxBatchSize < 1) throw new RangeError('maxBatchSize must be at least 1');
    if (options.maxQueue < 1) throw new RangeError('maxQueue must be at least 1');
    if (options.maxWaitMs < 0) throw new RangeError('maxWaitMs must not be negative');
    this.opts = { concurrency: 1, key: () => '', ...options };
    this.avgRunMs = Math.max(1, options.maxWaitMs);
  }

  /** Requests waiting for a batch (not yet running). */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Batches running now. */
  get runningBatches(): number {
    return this.running;
  }

  submit(input: I, options: SubmitOptions = {}): Promise<O> {
    if (this.closed) return Promise.reject(new ServingError('UNAVAILABLE', 'the server is shutting down'));
    const { signal, deadline } = options;
    if (signal?.aborted) return Promise.reject(new ServingError('CANCELLED', 'the request was cancelled'));
    if (deadline !== undefined && deadline <= Date.now()) {
      return Promise.reject(
        new ServingError('DEADLINE_EXCEEDED', 'the deadline passed before the request was queued'),
      );
    }
    if (this.queue.length >= this.opts.maxQueue) {
      return Promise.reject(
        new ExhaustedError(
          `the request queue is full (${this.opts.maxQueue} waiting); retry later`,
          this.retryAfterMs(),
        ),
      );
    }
    return new Promise<O>((resolve, reject) => {
      let deadlineTimer: NodeJS.Timeout | undefined;
      const onAbort = () => this.abandon(item, new ServingError('CANCELLED', 'the request was cancelled'));
      const item: Pending<I, O> = {
        input,
        key: this.opts.key(input),
        enqueuedAt: Date.now(),
        settled: false,
        resolve,
        reject,
        cleanup: () => {
          if (deadlineTimer) clearTimeout(deadlineTimer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== undefined) {
        deadlineTimer = setTimeout(
          () => this.abandon(item, new ServingError('DEADLINE_EXCEEDED', 'the deadline passed')),
          Math.max(0, deadline - Date.now()),
        );
      }
      this.queue.push(item);
      this.schedule();
    });
  }

  /** Refuses new requests and fails the waiting ones; running batches finish. */
  close(): void {
    this.closed = true;
    this.disarmTimer();
    for (const item of this.queue.splice(0)) {
      this.settle(item, undefined, new ServingError('UNAVAILABLE', 'the server is shutting down'));
    }
  }

  /** Rough time until a new request could start: the batches ahead of it, shared among the workers. */
  retryAfterMs(): number {
    const batchesAhead = Math.ceil((this.queue.length + 1) / this.opts.maxBatchSize);
    return Math.max(1, Math.ceil((batchesAhead * this.avgRunMs) / this.opts.concurrency));
  }

  private abandon(item: Pending<I, O>, error: ServingError): void {
    if (item.settled) return;
    const at = this.queue.indexOf(item);
    this.settle(item, undefined, error);
    if (at >= 0) {
      this.queue.splice(at, 1); // still queued: it frees its slot and never runs
      this.schedule();
    }
  }

  private settle(item: Pending<I, O>, output: O | undefined, error?: Error): void {
    if (item.settled) return;
    item.settled = true;
    item.cleanup();
    if (error) item.reject(error);
    else item.resolve(output as O);
  }

  private schedule(): void {
    // Recomputed from scratch on each call, so a stale wake-up never keeps the process alive.
    this.disarmTimer();
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const oldest = this.queue[0];
      const sameKey = this.countKey(oldest.key);
      const waited = Date.now() - oldest.enqueuedAt;
      if (sameKey < this.opts.maxBatchSize && waited < this.opts.maxWaitMs) {
        // Not full and not old enough: wake up when the oldest request has waited long enough.
        this.armTimer(oldest.enqueuedAt + this.opts.maxWaitMs);
        return;
      }
      this.dispatch(this.take(oldest.key));
    }
  }

  private countKey(key: string): number {
    let n = 0;
    for (const item of this.queue) {
      if (item.key === key && ++n >= this.opts.maxBatchSize) break;
    }
    return n;
  }

  private take(key: string): Pending<I, O>[] {
    const batch: Pending<I, O>[] = [];
    for (let i = 0; i < this.queue.length && batch.length < this.opts.maxBatchSize; ) {
      if (this.queue[i].key === key) batch.push(...this.queue.splice(i, 1));
      else i++;
    }
    return batch;
  }

  private disarmTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private armTimer(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    this.disarmTimer();
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.schedule();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private dispatch(batch: Pending<I, O>[]): void {
    this.running++;
    const started = Date.now();
    const key = batch[0].key;
    const waitMs = batch.map((item) => started - item.enqueuedAt);
    const finish = (outputs: O[] | undefined, error?: Error) => {
      const runMs = Date.now() - started;
      this.avgRunMs = 0.8 * this.avgRunMs + 0.2 * Math.max(1, runMs);
      this.running--;
      batch.forEach((item, i) => {
        this.settle(item, outputs?.[i], error);
      });
      this.opts.onBatch?.({ key, size: batch.length, waitMs, runMs });
      this.schedule();
    };
    let call: Promise<O[]>;
    try {
      call = this.opts.run(
        batch.map((item) => item.input),
        key,
      );
    } catch (e) {
      call = Promise.reject(e);
    }
    call.then(
      (outputs) => {
        if (!Array.isArray(outputs) || outputs.length !== batch.length) {
          finish(
            undefined,
            new ServingError(
              'INTERNAL',
              `the model returned ${outputs?.length} outputs for ${batch.length} inputs`,
            ),
          );
        } else finish(outputs);
      },
      (e: unknown) => {
        finish(undefined, e instanceof Error ? e : new ServingError('INTERNAL', String(e)));
      },
    );
  }
}
