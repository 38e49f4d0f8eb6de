/** Minimal logger shape (pino's) so the bus can log without owning a logger. */
export interface BusLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: BusLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Milliseconds -> nanoseconds, the unit of JetStream durations. */
export function nanos(ms: number): number {
  return Math.round(ms * 1_000_000);
}

/** A duration from an environment variable in milliseconds, or the default. */
export function envMs(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0)
    throw new Error(`${name} must be a positive number of milliseconds, got ${JSON.stringify(raw)}`);
  return v;
}
