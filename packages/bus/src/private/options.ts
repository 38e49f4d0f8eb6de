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

/**
 * Pull settings for every consumer: a pull request lasts 10 s and the server sends a heartbeat every
 * 2.5 s while it has nothing, so a consumer whose node died (an ordered consumer lives on one node;
 * a durable one moves to a new leader) is noticed after two missed heartbeats, 5 s, and recreated or
 * pulled again from where it was, instead of after nats.js's default 30 s.
 */
export const FAILOVER_PULL = { expires: 10_000, idle_heartbeat: 2_500 } as const;
