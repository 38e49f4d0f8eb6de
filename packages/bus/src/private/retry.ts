// Retrying a JetStream call while no leader answers (a node down, an election, a lost quorum), bounded in time.

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
