import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

export type HealthStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

// grpc.health.v1.Health client built from grpc-health-check's own definition (enums as strings).
const HealthClient = grpc.makeClientConstructor(
  healthService as unknown as grpc.ServiceDefinition,
  'grpc.health.v1.Health',
);

/** One grpc.health.v1 Check against host:port ('' = the whole server). Rejects on transport errors. */
export function checkHealth(address: string, service = '', timeoutMs = 2_000): Promise<HealthStatus> {
  const client = new HealthClient(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(
      req: { service: string },
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res?: { status: HealthStatus }) => void,
    ): void;
  };
  return new Promise<HealthStatus>((resolve, reject) => {
    client.check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res?.status ?? 'UNKNOWN');
    });
  });
}

/** Polls Check until it answers SERVING; rejects with the last answer or error after timeoutMs (default 30 s). */
export async function waitForHealth(
  address: string,
  options: { service?: string; timeoutMs?: number; isAlive?: () => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (options.isAlive && !options.isAlive())
      throw new Error(`process exited before ${address} was healthy`);
    try {
      const status = await checkHealth(address, options.service ?? '', 1_000);
      if (status === 'SERVING') return;
      last = status;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${address} not SERVING after ${options.timeoutMs ?? 30_000} ms (last: ${last})`);
}
