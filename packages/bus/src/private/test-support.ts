// Shared by the bus spec files: poll a condition a bounded number of times.
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  tries = 200,
  everyMs = 50,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
