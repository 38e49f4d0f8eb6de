// The plaintext health port (EMOVERSE_HEALTH_PORT): grpc.health.v1 alone, for probes that cannot speak TLS.
// Kubernetes' native gRPC probes connect without TLS; when the service's own port serves TLS they ask here.
// It shares the service's HealthImplementation, so it reports exactly what the TLS port reports (NOT_SERVING
// until a model loads, during shutdown) and serves nothing else: no RPC of the service, no reflection.
import * as grpc from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';
import { ConfigError } from './errors.js';

export interface HealthPort {
  port: number;
  close(): void;
}

/** Serves `health` in plaintext on host:port; a port it cannot bind stops start-up naming the variable. */
export function serveHealthPort(
  health: HealthImplementation,
  host: string,
  port: number,
): Promise<HealthPort> {
  const server = new grpc.Server();
  health.addToServer(server);
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) {
        server.forceShutdown();
        reject(
          new ConfigError(`cannot listen on EMOVERSE_HEALTH_PORT=${port} (host ${host}): ${err.message}`),
        );
      } else resolve({ port: bound, close: () => server.forceShutdown() });
    });
  });
}
