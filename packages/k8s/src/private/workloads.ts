// One Deployment and one Service per EmoVerse service (templates/deployment.yaml and service.yaml).

import type { Identity } from '@emoverse/bus';
import type {
  V1Container,
  V1Deployment,
  V1Probe,
  V1ResourceRequirements,
  V1Service,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { grpcTlsMounts } from './certificates.js';
import { containerEnv } from './env.js';
import { labels, objectName, selectorLabels } from './names.js';
import { natsClientTlsMounts } from './secrets.js';
import type { EmoverseValues, ImageValues, Release, ResourceValues, ServiceValues } from './values.js';

export const gpuResource = 'nvidia.com/gpu';

export function imageRef(image: ImageValues): string {
  return `${image.repository}:${image.tag}`;
}

/** requests/limits from values, plus `nvidia.com/gpu` in limits (extended resources are set in limits only). */
export function resourceRequirements(resources: ResourceValues, gpus: number): V1ResourceRequirements {
  const limits: Record<string, string> = { ...resources.limits };
  if (gpus > 0) limits[gpuResource] = String(gpus);
  return { requests: { ...resources.requests }, limits };
}

/**
 * Native gRPC probes (GA since Kubernetes 1.27): the kubelet calls grpc.health.v1.Health/Check, on the
 * plaintext health port, because it cannot speak TLS to the service's own port. The health port serves the
 * same health service as the TLS port (so readiness still waits for the gateway's model) and nothing else.
 * Not an exec probe (no grpc_health_probe binary in the images, a process per probe) and not a TCP probe
 * (it would call a replica ready before its model loaded).
 */
export function grpcProbes(
  port: number,
): Pick<V1Container, 'startupProbe' | 'readinessProbe' | 'livenessProbe'> {
  const probe = (periodSeconds: number, failureThreshold: number): V1Probe => ({
    grpc: { port },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  // Startup allows 5 minutes for a model load; readiness flips while a replica swaps models.
  return { startupProbe: probe(5, 60), readinessProbe: probe(5, 2), livenessProbe: probe(10, 3) };
}

/** Prometheus' conventional scrape annotations, on the pod template. */
export function scrapeAnnotations(values: EmoverseValues, metricsPort: number): Record<string, string> {
  if (!values.telemetry.prometheus.scrape) return {};
  return {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(metricsPort),
    'prometheus.io/path': values.telemetry.prometheus.path,
  };
}

/** nodeSelector and tolerations, left out when empty (the templates' `with` blocks do the same). */
export function scheduling(
  nodeSelector: Record<string, string>,
  tolerations: V1Toleration[],
): { nodeSelector?: Record<string, string>; tolerations?: V1Toleration[] } {
  return {
    ...(Object.keys(nodeSelector).length ? { nodeSelector: { ...nodeSelector } } : {}),
    ...(tolerations.length ? { tolerations: tolerations.map((t) => ({ ...t })) } : {}),
  };
}

function annotationsOf(a: Record<string, string>): { annotations?: Record<string, string> } {
  return Object.keys(a).length ? { annotations: a } : {};
}

export const modelsVolumeName = 'models';

/** The models/artifacts PVC, mounted only when storage.mode is `pvc`. */
export function storageMounts(
  values: EmoverseValues,
  release: Release,
): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  if (values.storage.mode !== 'pvc') return { volumes: [], mounts: [] };
  return {
    volumes: [
      { name: modelsVolumeName, persistentVolumeClaim: { claimName: objectName(release, 'models') } },
    ],
    mounts: [{ name: modelsVolumeName, mountPath: values.storage.mountPath }],
  };
}

/** Pod Security Standards "restricted" (pod-security.ts checks every pod spec against it). */
export const podSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  fsGroup: 10001,
  seccompProfile: { type: 'RuntimeDefault' },
};
export const containerSecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

export interface DeploymentExtras {
  serviceAccountName?: string;
  volumes?: V1Volume[];
  mounts?: V1VolumeMount[];
  extraEnv?: Record<string, string>;
}

export function buildServiceDeployment(
  values: EmoverseValues,
  release: Release,
  component: string,
  service: ServiceValues,
  extras: DeploymentExtras = {},
): V1Deployment {
  const storage = storageMounts(values, release);
  const tls = natsClientTlsMounts(values, release);
  const grpcTls = grpcTlsMounts(values, release, component);
  const container: V1Container = {
    name: component,
    image: imageRef(service.image),
    imagePullPolicy: service.image.pullPolicy,
    ports: [
      { name: 'grpc', containerPort: service.grpcPort, protocol: 'TCP' },
      { name: 'metrics', containerPort: service.metricsPort, protocol: 'TCP' },
      { name: 'health', containerPort: service.healthPort, protocol: 'TCP' },
    ],
    env: containerEnv(values, release, {
      serviceName: component,
      // Each service is its own NATS user: the services' names are the identities of packages/bus.
      natsIdentity: component as Identity,
      gatewayAuth: component === 'gateway',
      executionProvider: service.executionProvider,
      grpcPort: service.grpcPort,
      healthPort: service.healthPort,
      metricsPort: service.metricsPort,
      extra: { ...(extras.extraEnv ?? {}), ...service.env },
    }),
    resources: resourceRequirements(service.resources, service.gpus),
    ...grpcProbes(service.healthPort),
    securityContext: containerSecurityContext,
    // readOnlyRootFilesystem: scratch space goes to /tmp (ffmpeg frames, XDG_RUNTIME_DIR for WebGPU).
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      ...storage.mounts,
      ...tls.mounts,
      ...grpcTls.mounts,
      ...(extras.mounts ?? []),
    ],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: objectName(release, component),
      namespace: release.namespace,
      labels: labels(release, component),
    },
    spec: {
      // With the gateway's HPA on, the HPA owns replicas; leaving it unset keeps `helm upgrade` from resetting it.
      ...(component === 'gateway' && values.gateway.autoscaling.enabled
        ? {}
        : { replicas: service.replicas }),
      selector: { matchLabels: selectorLabels(release, component) },
      template: {
        metadata: {
          labels: labels(release, component),
          ...annotationsOf(scrapeAnnotations(values, service.metricsPort)),
        },
        spec: {
          // Only the trainer controller talks to the Kubernetes API; no other pod gets a token.
          ...(extras.serviceAccountName
            ? { serviceAccountName: extras.serviceAccountName }
            : { automountServiceAccountToken: false }),
          securityContext: podSecurityContext,
          ...scheduling(service.nodeSelector, service.tolerations),
          containers: [container],
          volumes: [
            { name: 'tmp', emptyDir: {} },
            ...storage.volumes,
            ...tls.volumes,
            ...grpcTls.volumes,
            ...(extras.volumes ?? []),
          ],
        },
      },
    },
  };
}

export function buildServiceService(
  release: Release,
  component: string,
  service: ServiceValues,
  type: 'ClusterIP' | 'LoadBalancer' | 'NodePort' = 'ClusterIP',
): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: objectName(release, component),
      namespace: release.namespace,
      labels: labels(release, component),
    },
    spec: {
      type,
      selector: selectorLabels(release, component),
      ports: [
        // appProtocol lets meshes and L7 load balancers spread gRPC streams across replicas.
        { name: 'grpc', port: service.grpcPort, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
        { name: 'metrics', port: service.metricsPort, targetPort: 'metrics', protocol: 'TCP' },
      ],
    },
  };
}
