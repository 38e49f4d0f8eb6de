// Test helpers: a real nats-server on a free loopback port or a three-node JetStream cluster, the shared data folder, free ports,
// and service processes started from source that answer gRPC health.

export { makeTestCertificates, type TestCertificates } from './private/certificates.js';
export { eventually, eventuallyWithin } from './private/eventually.js';
export { checkHealth, type HealthStatus, waitForHealth } from './private/health.js';
export {
  type NatsCluster,
  type NatsNode,
  type StartClusterOptions,
  startNatsCluster,
} from './private/nats-cluster.js';
export {
  type NatsClientOptions,
  type NatsServer,
  natsAuthorizationFile,
  natsUsers,
  type StartNatsOptions,
  startNatsServer,
} from './private/nats-server.js';
export { repoRoot, sharedDir } from './private/paths.js';
export { freePort } from './private/ports.js';
export {
  type ExitInfo,
  type ServiceProcess,
  type StartServiceOptions,
  startService,
} from './private/service-process.js';
