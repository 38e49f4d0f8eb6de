// The trainer controller creates and watches training Jobs in its own namespace, and nothing else.
import type { V1Role, V1RoleBinding, V1ServiceAccount } from '@kubernetes/client-node';
import { labels, objectName } from './names.js';
import type { Release } from './values.js';

export function trainerServiceAccountName(release: Release): string {
  return objectName(release, 'trainer');
}

export function buildTrainerRbac(release: Release): [V1ServiceAccount, V1Role, V1RoleBinding] {
  const name = trainerServiceAccountName(release);
  const metadata = { name, namespace: release.namespace, labels: labels(release, 'trainer') };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { ...metadata } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { ...metadata },
      rules: [
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
        // Pods only to read why a Job's pod is pending (unschedulable: no GPU node) and its logs.
        { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { ...metadata },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: release.namespace }],
    },
  ];
}
