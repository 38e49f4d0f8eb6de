// NATS with JetStream inside the release (when nats.mode is `embedded`): a StatefulSet with a volume
// per replica for the JetStream file store, its config in a ConfigMap, a headless Service for routes.
import type { V1ConfigMap, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { labels, objectName, selectorLabels } from './names.js';
import type { EmoverseValues, Release } from './values.js';
import { containerSecurityContext, imageRef, podSecurityContext, resourceRequirements } from './workloads.js';

const clusterPort = 6222;
const storeDir = '/data/jetstream';

/** nats.conf; `nats-server -c <file> -t` accepts it (a test runs exactly that). */
export function natsConfig(values: EmoverseValues, release: Release): string {
  const n = values.nats;
  const lines = [
    `port: ${n.clientPort}`,
    `http_port: ${n.monitorPort}`,
    'server_name: $POD_NAME',
    'jetstream {',
    `  store_dir: ${storeDir}`,
    `  max_memory_store: ${n.jetstream.memoryStorageSize}`,
    `  max_file_store: ${n.jetstream.fileStorageSize}`,
    '}',
  ];
  if (n.replicas > 1) {
    const headless = objectName(release, 'nats-headless');
    const routes = Array.from(
      { length: n.replicas },
      (_, i) =>
        `nats://${objectName(release, 'nats')}-${i}.${headless}.${release.namespace}.svc:${clusterPort}`,
    );
    lines.push(
      'cluster {',
      `  name: ${release.name}`,
      `  port: ${clusterPort}`,
      `  routes: [${routes.join(', ')}]`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

export function buildNats(
  values: EmoverseValues,
  release: Release,
): [V1ConfigMap, V1Service, V1Service, V1StatefulSet] {
  const n = values.nats;
  const name = objectName(release, 'nats');
  const meta = (objName: string) => ({
    name: objName,
    namespace: release.namespace,
    labels: labels(release, 'nats'),
  });
  const ports = [
    { name: 'client', port: n.clientPort, targetPort: 'client', protocol: 'TCP' },
    { name: 'monitor', port: n.monitorPort, targetPort: 'monitor', protocol: 'TCP' },
  ];
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(name),
      data: { 'nats.conf': natsConfig(values, release) },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name),
      spec: { selector: selectorLabels(release, 'nats'), ports },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(objectName(release, 'nats-headless')),
      spec: {
        clusterIP: 'None',
        // Peers must find each other before they are ready, or a cluster never forms.
        publishNotReadyAddresses: true,
        selector: selectorLabels(release, 'nats'),
        ports: [...ports, { name: 'cluster', port: clusterPort, targetPort: 'cluster', protocol: 'TCP' }],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(name),
      spec: {
        serviceName: objectName(release, 'nats-headless'),
        replicas: n.replicas,
        selector: { matchLabels: selectorLabels(release, 'nats') },
        template: {
          metadata: { labels: labels(release, 'nats') },
          spec: {
            securityContext: podSecurityContext,
            containers: [
              {
                name: 'nats',
                image: imageRef(n.image),
                imagePullPolicy: n.image.pullPolicy,
                args: ['--config', '/etc/nats/nats.conf'],
                env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
                ports: [
                  { name: 'client', containerPort: n.clientPort },
                  { name: 'cluster', containerPort: clusterPort },
                  { name: 'monitor', containerPort: n.monitorPort },
                ],
                resources: resourceRequirements(n.resources, 0),
                // /healthz?js-enabled-only=true: ready once JetStream is up.
                readinessProbe: {
                  httpGet: { path: '/healthz?js-enabled-only=true', port: 'monitor' },
                  periodSeconds: 5,
                },
                livenessProbe: {
                  httpGet: { path: '/healthz?js-enabled-only=true', port: 'monitor' },
                  periodSeconds: 10,
                  failureThreshold: 6,
                },
                securityContext: containerSecurityContext,
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/nats' },
                  { name: 'data', mountPath: '/data' },
                ],
              },
            ],
            volumes: [{ name: 'config', configMap: { name } }],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: {
              accessModes: ['ReadWriteOnce'],
              ...(n.jetstream.storageClassName ? { storageClassName: n.jetstream.storageClassName } : {}),
              resources: { requests: { storage: n.jetstream.fileStorageSize } },
            },
          },
        ],
      },
    },
  ];
}
