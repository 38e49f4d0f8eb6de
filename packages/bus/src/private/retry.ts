// Retrying a JetStream call while no leader answers (a node down, an election, a lost quorum), bounded in time.
import { envMs } from './options.js';

/** Errors that mean "no stream leader answered now" rather than "this request is wrong". */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    ['503', 'TIMEOUT', 'DISCONNECT', 'CONNECTION_REFUSED'].includes(e.code ?? '') ||
    /no responders|timeout|temporarily unavailable|no suitable peers|insufficient resources/i.test(
      e.message ?? '',
    )
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `attempt` until it succeeds, fails for another reason, or `retryForMs` passed (backoff 250 ms
 * doubling to 2 s); then throws what `giveUp` makes of the last error.
 */
export async function retryWhileUnavailable<T>(
  retryForMs: number,
  attempt: () => Promise<T>,
  giveUp: (last: Error, attempts: number, waitedMs: number) => Error,
): Promise<T> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const waited = Date.now() - started;
      if (!isUnavailable(err)) throw err;
      if (waited >= retryForMs) throw giveUp(err as Error, n, waited);
      await sleep(Math.min(2_000, 250 * 2 ** (n - 1), Math.max(0, retryForMs - waited)));
    }
  }
}

/**
 * A JetStream API call (create or look up a consumer, read or write a job's state): tried again while
 * no leader answers, for EMOVERSE_BUS_PUBLISH_RETRY_MS (30 s), so a service starts and keeps working
 * during a failover. The error it gives up with keeps the last error's code.
 */
export function whileElecting<T>(what: string, call: () => Promise<T>): Promise<T> {
  return retryWhileUnavailable(
    envMs('EMOVERSE_BUS_PUBLISH_RETRY_MS', 30_000),
    call,
    (last, attempts, waited) =>
      Object.assign(
        new Error(
          `${what}: no answer after ${attempts} attempt(s) over ${waited} ms (last error: ${last.message}); ` +
            'is a quorum of the NATS cluster up?',
          { cause: last },
        ),
        { code: (last as { code?: string }).code },
      ),
  );
}
