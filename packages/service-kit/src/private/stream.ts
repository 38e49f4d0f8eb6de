// Items pushed by callbacks, read as an async iterable: the one queue behind streaming RPCs (Generate's tokens, WatchRun's updates).

/**
 * An unbounded queue with one reader. `push` adds an item and wakes the reader; `close` ends the
 * stream once the queued items are read; `drain(signal)` yields items until then, or until the signal
 * aborts (checked before each item). Back-pressure is left to the reader (service-kit's stream writer).
 */
export class PushQueue<T> {
  private readonly queue: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(item: T): void {
    this.queue.push(item);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *drain(signal?: AbortSignal): AsyncGenerator<T> {
    const onAbort = () => this.wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        if (this.queue.length) {
          yield this.queue.shift() as T;
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((r) => {
          this.wake = r;
        });
        this.wake = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * Runs `run`, giving it a `push` callback, and returns what it pushes as an async iterable that ends
 * when `run` settles, with `run`'s result (whose rejection is the caller's to observe).
 */
export function callbackStream<T, R>(
  run: (push: (item: T) => void) => Promise<R>,
): { items: AsyncGenerator<T>; result: Promise<R> } {
  const queue = new PushQueue<T>();
  const result = run((item) => queue.push(item)).finally(() => queue.close());
  result.catch(() => {});
  return { items: queue.drain(), result };
}
