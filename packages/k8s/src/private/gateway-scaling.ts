// The gateway scales on CPU with an HPA and keeps a floor of ready replicas through voluntary disruptions.
import type { V1PodDisruptionBudget, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { labels, objectName, selectorLabels } from './names.js';
import type { EmoverseValues, Release } from './values.js';

export function buildGatewayHpa(values: EmoverseValues, release: Release): V2HorizontalPodAutoscaler {
  const a = values.gateway.autoscaling;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: objectName(release, 'gateway'),
      namespace: release.namespace,
      labels: labels(release, 'gateway'),
    },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: objectName(release, 'gateway') },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage },
          },
        },
      ],
    },
  };
}

export function buildGatewayPdb(values: EmoverseValues, release: Release): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {
      name: objectName(release, 'gateway'),
      namespace: release.namespace,
      labels: labels(release, 'gateway'),
    },
    spec: {
      minAvailable: values.gateway.podDisruptionBudget.minAvailable,
      selector: { matchLabels: selectorLabels(release, 'gateway') },
    },
  };
}
