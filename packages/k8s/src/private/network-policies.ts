// NetworkPolicies of the release (templates/network-policies.yaml): every pod of the release denies all
// ingress and egress by default; each component then gets only its flows (NATS from the release's pods, the
// gateway's gRPC port from outside, metrics from the monitoring namespace, DNS, telemetry, the API server).
import type {
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
} from '@kubernetes/client-node';
import { components, labels, objectName, selectorLabels } from './names.js';
import { natsClusterPort } from './nats.js';
import type { EmoverseValues, Release, ServiceValues } from './values.js';

/** The labels every pod of the release carries (services, NATS and training Jobs alike). */
export function releasePodSelector(release: Release): Record<string, string> {
  return { 'app.kubernetes.io/name': 'emoverse', 'app.kubernetes.io/instance': release.name };
}

/**
 * The port of a URL as the template's `emoverse.urlPort` finds it: the first of a comma-separated list, the
 * scheme, path and user info removed, then `:<digits>` at the end; `fallback` when there is none.
 */
export function urlPort(url: string, fallback: number): number {
  const first = url.split(',')[0];
  const hostPort = first
    .replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '')
    .replace(/[/?#].*$/, '')
    .replace(/^.*@/, '');
  const port = /:([0-9]+)$/.exec(hostPort)?.[1];
  return port ? Number(port) : fallback;
}

/** NATS's default client port, used for an external URL without one. */
const natsDefaultPort = 4222;
/** OTLP/gRPC's port, used for a telemetry endpoint without one. */
const otlpDefaultPort = 4317;

/** An ingress rule as the API reads it: client-node's model names the `from` field `_from` in TypeScript. */
type IngressRule = Omit<V1NetworkPolicyIngressRule, '_from'> & { from?: V1NetworkPolicyPeer[] };

const tcp = (port: number) => ({ protocol: 'TCP', port });

function policy(
  release: Release,
  name: string,
  podSelector: Record<string, string>,
  rules: { ingress?: IngressRule[]; egress?: V1NetworkPolicyEgressRule[] },
  policyTypes: Array<'Ingress' | 'Egress'>,
): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: objectName(release, name),
      namespace: release.namespace,
      labels: labels(release, 'network-policy'),
    },
    spec: {
      podSelector: { matchLabels: podSelector },
      policyTypes,
      ...(rules.ingress ? { ingress: rules.ingress as V1NetworkPolicyIngressRule[] } : {}),
      ...(rules.egress ? { egress: rules.egress } : {}),
    },
  };
}

/** Egress to NATS's client port: the release's NATS pods, or any address on an external URL's port. */
function natsEgress(values: EmoverseValues, release: Release): V1NetworkPolicyEgressRule {
  if (values.nats.mode === 'external') return { ports: [tcp(urlPort(values.nats.url, natsDefaultPort))] };
  return {
    to: [{ podSelector: { matchLabels: selectorLabels(release, 'nats') } }],
    ports: [tcp(values.nats.clientPort)],
  };
}

export function buildNetworkPolicies(values: EmoverseValues, release: Release): V1NetworkPolicy[] {
  if (!values.networkPolicy.enabled) return [];
  const np = values.networkPolicy;
  const releasePods = releasePodSelector(release);
  const fromRelease: V1NetworkPolicyPeer[] = [{ podSelector: { matchLabels: releasePods } }];
  const monitoring: V1NetworkPolicyPeer[] = [
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': np.monitoringNamespace } } },
  ];
  const out: V1NetworkPolicy[] = [
    // No rules: nothing in, nothing out, for every pod of the release. The policies below add the flows.
    policy(release, 'default-deny', releasePods, {}, ['Ingress', 'Egress']),
  ];
  // Every pod resolves names, exports telemetry and may use what the user adds.
  const common: V1NetworkPolicyEgressRule[] = [
    {
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
  ];
  if (values.telemetry.otlpEndpoint)
    common.push({ ports: [tcp(urlPort(values.telemetry.otlpEndpoint, otlpDefaultPort))] });
  common.push(...np.extraEgress);
  out.push(policy(release, 'egress', releasePods, { egress: common }, ['Egress']));

  if (values.nats.mode === 'embedded') {
    const natsPods = selectorLabels(release, 'nats');
    const clustered = values.nats.replicas > 1;
    const ingress: IngressRule[] = [{ from: fromRelease, ports: [tcp(values.nats.clientPort)] }];
    const peers = [{ podSelector: { matchLabels: natsPods } }];
    if (clustered) ingress.push({ from: peers, ports: [tcp(natsClusterPort)] });
    out.push(
      policy(
        release,
        'nats',
        natsPods,
        { ingress, ...(clustered ? { egress: [{ to: peers, ports: [tcp(natsClusterPort)] }] } : {}) },
        clustered ? ['Ingress', 'Egress'] : ['Ingress'],
      ),
    );
  }

  for (const { component, key } of components) {
    const service: ServiceValues = values[key];
    if (!service.enabled) continue;
    const ingress: IngressRule[] = [
      component === 'gateway'
        ? // The only port reachable from outside the release.
          { ...(np.gatewayFrom.length ? { from: np.gatewayFrom } : {}), ports: [tcp(service.grpcPort)] }
        : { from: fromRelease, ports: [tcp(service.grpcPort)] },
    ];
    if (values.telemetry.prometheus.scrape)
      ingress.push({ from: monitoring, ports: [tcp(service.metricsPort)] });
    const egress = [natsEgress(values, release)];
    // The trainer controller creates and watches training Jobs through the API server.
    if (component === 'trainer') egress.push({ ports: np.apiServerPorts.map(tcp) });
    out.push(
      policy(release, component, selectorLabels(release, component), { ingress, egress }, [
        'Ingress',
        'Egress',
      ]),
    );
    if (component === 'trainer') {
      // The training Jobs it submits: NATS only (no port of theirs is reached).
      out.push(
        policy(
          release,
          'training',
          selectorLabels(release, 'training'),
          { egress: [natsEgress(values, release)] },
          ['Egress'],
        ),
      );
    }
  }
  return out;
}
