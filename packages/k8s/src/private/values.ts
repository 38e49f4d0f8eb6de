// The chart's values as a typed object. deploy/helm/emoverse/values.yaml holds the same defaults
// (a test keeps the two equal), and values-gpu.yaml is an override merged over them like `helm -f`.
import type { V1NetworkPolicyEgressRule, V1NetworkPolicyPeer, V1Toleration } from '@kubernetes/client-node';

/** Which ONNX Runtime execution provider a pod asks for (read by the runtime package through EMOVERSE_EP). */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

export interface ImageValues {
  repository: string;
  tag: string;
  pullPolicy: 'Always' | 'IfNotPresent' | 'Never';
}

export interface ResourceValues {
  requests: Record<string, string>;
  limits: Record<string, string>;
}

/** What every long-running service shares: one Deployment and one ClusterIP Service each. */
export interface ServiceValues {
  enabled: boolean;
  replicas: number;
  image: ImageValues;
  /** gRPC port (TLS when grpcTls.enabled). */
  grpcPort: number;
  /**
   * Plaintext port that serves only grpc.health.v1 (service-kit's EMOVERSE_HEALTH_PORT): the kubelet's native
   * gRPC probes cannot speak TLS, so they ask here, never on grpcPort.
   */
  healthPort: number;
  /** Prometheus metrics port (HTTP, `metricsPath`). */
  metricsPort: number;
  resources: ResourceValues;
  /** `nvidia.com/gpu` per replica; 0 keeps the pod on CPU nodes. */
  gpus: number;
  executionProvider: ExecutionProvider;
  nodeSelector: Record<string, string>;
  tolerations: V1Toleration[];
  env: Record<string, string>;
}

export interface GatewayValues extends ServiceValues {
  autoscaling: {
    enabled: boolean;
    minReplicas: number;
    maxReplicas: number;
    targetCPUUtilizationPercentage: number;
  };
  podDisruptionBudget: { enabled: boolean; minAvailable: number };
  /** ClusterIP or LoadBalancer for the public gRPC endpoint. */
  serviceType: 'ClusterIP' | 'LoadBalancer' | 'NodePort';
  /** The bearer token clients send (EMOVERSE_AUTH_TOKEN), from a Secret. */
  auth: {
    enabled: boolean;
    /** A Secret with key `token`; empty: the chart creates <release>-gateway-auth with a random one. */
    existingSecret: string;
  };
}

/** The GPU Job the trainer controller submits for each run; independent of every serving value. */
export interface TrainingValues {
  image: ImageValues;
  gpusPerJob: number;
  executionProvider: ExecutionProvider;
  resources: ResourceValues;
  nodeSelector: Record<string, string>;
  tolerations: V1Toleration[];
  /** Size of the memory-backed /dev/shm (worker threads and ORT share tensors through it). */
  shmSize: string;
  backoffLimit: number;
  activeDeadlineSeconds: number;
  ttlSecondsAfterFinished: number;
  /** How many training Jobs may run at once (the controller queues the rest). */
  maxConcurrentJobs: number;
  env: Record<string, string>;
}

export interface NatsValues {
  /** `embedded`: a JetStream StatefulSet in this release; `external`: use `url`. */
  mode: 'embedded' | 'external';
  url: string;
  image: ImageValues;
  replicas: number;
  clientPort: number;
  monitorPort: number;
  jetstream: { fileStorageSize: string; memoryStorageSize: string; storageClassName: string };
  resources: ResourceValues;
  /** One NATS user per service (packages/bus permissions.ts); passwords from a Secret. */
  auth: {
    /**
     * A Secret with one key per identity (frame-extractor, au-scorer, caption-generator, trainer, gateway,
     * operator) holding its password; empty: the chart creates <release>-nats-auth with random ones.
     */
    existingSecret: string;
  };
  /** TLS on client connections (the server's certificate from a kubernetes.io/tls Secret). */
  tls: {
    enabled: boolean;
    /** tls.crt, tls.key and ca.crt (what cert-manager writes); empty: <release>-nats-tls. */
    secretName: string;
    /** Clients present a certificate too (nats-server `verify: true`). */
    mtls: {
      enabled: boolean;
      /** tls.crt and tls.key of the client certificate every service presents; empty: <release>-nats-client-tls. */
      clientSecretName: string;
    };
  };
  /**
   * JetStream replicas of every stream and KV/object bucket the services declare (EMOVERSE_STREAM_REPLICAS
   * on every pod, which service-kit accepts as 1 or 3): 3 with a 3-node cluster (values-ha.yaml).
   */
  streamReplicas: 1 | 3;
  /** Keeps a quorum through voluntary disruptions (node drains); for a cluster, minAvailable 2 of 3. */
  podDisruptionBudget: { enabled: boolean; minAvailable: number };
  /**
   * Spreading replicas across nodes (topologyKey): `required` never puts two on one node, `preferred` tries
   * to, `none` leaves it to the scheduler.
   */
  antiAffinity: { mode: 'none' | 'preferred' | 'required'; topologyKey: string };
}

/** gRPC over TLS on every service: each serves the certificate of Secret <release>-<component>-grpc-tls. */
export interface GrpcTlsValues {
  enabled: boolean;
}

/** cert-manager `Certificate`s for every TLS Secret the release uses (gRPC, NATS server, NATS clients). */
export interface CertManagerValues {
  enabled: boolean;
  /** A CA issuer (its Secrets then carry ca.crt, which NATS clients and routes need). */
  issuerRef: { name: string; kind: 'Issuer' | 'ClusterIssuer'; group: string };
  /** Go durations, as cert-manager reads them. */
  duration: string;
  renewBefore: string;
  /** More names in the gateway's certificate (its public host name behind a LoadBalancer). */
  gatewayDnsNames: string[];
}

export interface StorageValues {
  /** `pvc`: models and artifacts on a shared volume; `objectStore`: NATS JetStream object store bucket. */
  mode: 'pvc' | 'objectStore';
  mountPath: string;
  pvc: { size: string; storageClassName: string; accessModes: Array<'ReadWriteOnce' | 'ReadWriteMany'> };
  objectStoreBucket: string;
}

export interface TelemetryValues {
  otlpEndpoint: string;
  prometheus: { scrape: boolean; path: string };
}

/** Default deny for the release's pods, and the flows the platform needs. */
export interface NetworkPolicyValues {
  enabled: boolean;
  /** The namespace whose pods may scrape metrics ports (matched by kubernetes.io/metadata.name). */
  monitoringNamespace: string;
  /** Who may reach the gateway's gRPC port; empty: anyone, inside or outside the cluster. */
  gatewayFrom: V1NetworkPolicyPeer[];
  /** Ports of the Kubernetes API server the trainer controller may reach (it submits Jobs). */
  apiServerPorts: number[];
  /** More egress for every pod of the release (e.g. a proxy for dataset downloads). */
  extraEgress: V1NetworkPolicyEgressRule[];
}

export interface EmoverseValues {
  nats: NatsValues;
  grpcTls: GrpcTlsValues;
  certManager: CertManagerValues;
  storage: StorageValues;
  telemetry: TelemetryValues;
  frameExtractor: ServiceValues;
  auScorer: ServiceValues;
  captionGenerator: ServiceValues;
  trainer: ServiceValues;
  gateway: GatewayValues;
  training: TrainingValues;
  networkPolicy: NetworkPolicyValues;
}

/** Helm's .Release: the name prefixes every object, the namespace is where they go. */
export interface Release {
  name: string;
  namespace: string;
}

export const defaultRelease: Release = { name: 'emoverse', namespace: 'emoverse' };

const registry = 'registry.example.com/emoverse';
const appVersion = '0.1.0';

function image(component: string, tag = appVersion): ImageValues {
  return { repository: `${registry}/${component}`, tag, pullPolicy: 'IfNotPresent' };
}

function cpuService(
  component: string,
  replicas: number,
  grpcPort: number,
  cpu: string,
  memory: string,
): ServiceValues {
  return {
    enabled: true,
    replicas,
    image: image(component),
    grpcPort,
    healthPort: 9465,
    metricsPort: 9464,
    resources: { requests: { cpu, memory }, limits: { memory } },
    gpus: 0,
    executionProvider: 'cpu',
    nodeSelector: {},
    tolerations: [],
    env: {},
  };
}

/** The defaults of values.yaml: everything on CPU nodes, NATS embedded, a PVC for models. */
export function defaultValues(): EmoverseValues {
  return {
    nats: {
      mode: 'embedded',
      url: '',
      image: { repository: 'nats', tag: '2.10-alpine', pullPolicy: 'IfNotPresent' },
      replicas: 1,
      clientPort: 4222,
      monitorPort: 8222,
      jetstream: { fileStorageSize: '10Gi', memoryStorageSize: '1Gi', storageClassName: '' },
      resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { memory: '2Gi' } },
      auth: { existingSecret: '' },
      tls: { enabled: true, secretName: '', mtls: { enabled: false, clientSecretName: '' } },
      streamReplicas: 1,
      podDisruptionBudget: { enabled: false, minAvailable: 2 },
      antiAffinity: { mode: 'preferred', topologyKey: 'kubernetes.io/hostname' },
    },
    grpcTls: { enabled: true },
    certManager: {
      enabled: false,
      issuerRef: { name: '', kind: 'Issuer', group: 'cert-manager.io' },
      duration: '2160h',
      renewBefore: '360h',
      gatewayDnsNames: [],
    },
    storage: {
      mode: 'pvc',
      mountPath: '/var/lib/emoverse',
      pvc: { size: '50Gi', storageClassName: '', accessModes: ['ReadWriteMany'] },
      objectStoreBucket: 'emoverse-models',
    },
    telemetry: {
      otlpEndpoint: 'http://otel-collector.observability.svc:4317',
      prometheus: { scrape: true, path: '/metrics' },
    },
    frameExtractor: cpuService('frame-extractor', 2, 50052, '500m', '1Gi'),
    auScorer: cpuService('au-scorer', 2, 50053, '1', '2Gi'),
    captionGenerator: cpuService('caption-generator', 1, 50054, '250m', '512Mi'),
    trainer: cpuService('trainer', 1, 50055, '250m', '512Mi'),
    gateway: {
      ...cpuService('gateway', 2, 50051, '2', '4Gi'),
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 8, targetCPUUtilizationPercentage: 70 },
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      serviceType: 'ClusterIP',
      auth: { enabled: true, existingSecret: '' },
    },
    training: {
      image: image('trainer'),
      gpusPerJob: 0,
      executionProvider: 'cpu',
      resources: { requests: { cpu: '2', memory: '8Gi' }, limits: { memory: '8Gi' } },
      nodeSelector: {},
      tolerations: [],
      shmSize: '2Gi',
      backoffLimit: 2,
      activeDeadlineSeconds: 86400,
      ttlSecondsAfterFinished: 3600,
      maxConcurrentJobs: 1,
      env: {},
    },
    networkPolicy: {
      enabled: true,
      monitoringNamespace: 'monitoring',
      gatewayFrom: [],
      apiServerPorts: [443, 6443],
      extraEgress: [],
    },
  };
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's merge of `-f` files: maps merge key by key, lists and scalars replace. */
export function mergeValues<T>(base: T, override: unknown): T {
  if (!isPlain(base) || !isPlain(override)) return (override === undefined ? base : override) as T;
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = mergeValues(out[key], value);
  return out as T;
}
