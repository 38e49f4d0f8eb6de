// Bounded polling for tests: by number of tries, or by a deadline when one probe may itself take long.
/**
 * Polls `probe` until it returns something other than undefined/false, at most `tries` times
 * `everyMs` apart, then fails naming `what`. Tests wait with this instead of sleeping, so they stay
 * bounded and stop by themselves.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  tries = 300,
  everyMs = 100,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Polls `probe` until it returns something other than undefined/false, or throws once `timeoutMs`
 * passed. A probe that throws counts as "not yet" (a request to a cluster that is electing a leader);
 * the last error is named at the deadline. Use it where one probe may take seconds, so that the
 * bound is time, not a count of tries.
 */
export async function eventuallyWithin<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const why = last ? ` (last error: ${(last as Error).message || String(last)})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
}
