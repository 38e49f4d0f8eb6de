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
