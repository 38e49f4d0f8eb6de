// The environment every EmoVerse container reads: where NATS is and who it connects as, where telemetry goes, where models live.
import type { Identity } from '@emoverse/bus';
import type { V1EnvVar } from '@kubernetes/client-node';
import { grpcTlsEnv } from './certificates.js';
import { objectName } from './names.js';
import { gatewayAuthEnv, natsClientEnv } from './secrets.js';
import type { EmoverseValues, ExecutionProvider, Release } from './values.js';

/** NATS URL: the embedded StatefulSet's client Service, or the external URL from values. */
export function natsUrl(values: EmoverseValues, release: Release): string {
  if (values.nats.mode === 'external') return values.nats.url;
  return `nats://${objectName(release, 'nats')}.${release.namespace}.svc:${values.nats.clientPort}`;
}

export interface ContainerEnvOptions {
  serviceName: string;
  /** The NATS user the pod connects as; its password comes from that identity's key of the auth Secret. */
  natsIdentity: Identity;
  /** The gateway: EMOVERSE_AUTH_TOKEN from its Secret (when gateway.auth is on). */
  gatewayAuth?: boolean;
  executionProvider: ExecutionProvider;
  /** A gRPC server: its port (TLS from its certificate Secret) and the plaintext port of its probes. */
  grpcPort?: number;
  healthPort?: number;
  metricsPort?: number;
  extra: Record<string, string>;
}

/** Env vars in a fixed order (names sorted within `extra`), so manifests diff cleanly. */
export function containerEnv(values: EmoverseValues, release: Release, o: ContainerEnvOptions): V1EnvVar[] {
  const env: V1EnvVar[] = [
    { name: 'NATS_URL', value: natsUrl(values, release) },
    ...natsClientEnv(values, release, o.natsIdentity),
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: values.telemetry.otlpEndpoint },
    { name: 'OTEL_SERVICE_NAME', value: o.serviceName },
    // service-kit exports traces over OTLP only when asked to.
    { name: 'EMOVERSE_TRACE_EXPORTER', value: values.telemetry.otlpEndpoint ? 'otlp' : 'none' },
    { name: 'EMOVERSE_EP', value: o.executionProvider },
    { name: 'EMOVERSE_STORAGE_MODE', value: values.storage.mode },
  ];
  if (values.storage.mode === 'pvc')
    env.push({ name: 'EMOVERSE_MODELS_DIR', value: values.storage.mountPath });
  else env.push({ name: 'EMOVERSE_OBJECT_STORE_BUCKET', value: values.storage.objectStoreBucket });
  // How many JetStream replicas each stream and bucket the pod declares gets (packages/bus topology).
  env.push({ name: 'EMOVERSE_STREAM_REPLICAS', value: String(values.nats.streamReplicas) });
  // The names service-kit reads (packages/service-kit/src/private/config.ts), so the server listens
  // where the probes, the Service and the Prometheus annotations look.
  if (o.grpcPort !== undefined) env.push({ name: 'EMOVERSE_GRPC_PORT', value: String(o.grpcPort) });
  if (o.metricsPort !== undefined) env.push({ name: 'EMOVERSE_METRICS_PORT', value: String(o.metricsPort) });
  if (o.healthPort !== undefined) env.push({ name: 'EMOVERSE_HEALTH_PORT', value: String(o.healthPort) });
  if (o.grpcPort !== undefined) env.push(...grpcTlsEnv(values));
  env.push({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
  if (o.gatewayAuth) env.push(...gatewayAuthEnv(values, release));
  for (const name of Object.keys(o.extra).sort()) env.push({ name, value: o.extra[name] });
  return env;
}
