// Models, checkpoints and adapters: a shared PVC (ReadWriteMany so every replica and every training Job
// mounts it), or nothing here when they live in the NATS JetStream object store.
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { labels, objectName } from './names.js';
import type { EmoverseValues, Release } from './values.js';

export function buildModelsPvc(values: EmoverseValues, release: Release): V1PersistentVolumeClaim {
  const pvc = values.storage.pvc;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: objectName(release, 'models'),
      namespace: release.namespace,
      labels: labels(release, 'models'),
      // Models outlive `helm uninstall`; deleting them is a deliberate act.
      annotations: { 'helm.sh/resource-policy': 'keep' },
    },
    spec: {
      accessModes: [...pvc.accessModes],
      ...(pvc.storageClassName ? { storageClassName: pvc.storageClassName } : {}),
      resources: { requests: { storage: pvc.size } },
    },
  };
}
