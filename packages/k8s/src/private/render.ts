// Every object the chart produces for a values object, in the order `helm template` would list them.
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { buildCertificates } from './certificates.js';
import { buildGatewayHpa, buildGatewayPdb } from './gateway-scaling.js';
import { components, objectName } from './names.js';
import { buildNats, buildNatsPdb } from './nats.js';
import { buildNetworkPolicies } from './network-policies.js';
import { buildSecrets, randomSecrets, type SecretGenerator } from './secrets.js';
import { buildModelsPvc } from './storage.js';
import { buildTrainerRbac, trainerServiceAccountName } from './trainer-rbac.js';
import {
  buildTrainingJobConfigMap,
  trainingJobConfigKey,
  trainingJobConfigMountPath,
} from './training-job.js';
import type { EmoverseValues, Release } from './values.js';
import { defaultRelease } from './values.js';
import { buildServiceDeployment, buildServiceService } from './workloads.js';

export interface RenderOptions {
  /** Values of the Secrets the chart generates (random unless given; tests fix them to compare renders). */
  secrets?: SecretGenerator;
}

export function renderManifests(
  values: EmoverseValues,
  release: Release = defaultRelease,
  options: RenderOptions = {},
): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  out.push(...buildNetworkPolicies(values, release));
  out.push(...buildSecrets(values, release, options.secrets ?? randomSecrets));
  if (values.nats.mode === 'embedded') {
    out.push(...buildNats(values, release));
    if (values.nats.podDisruptionBudget.enabled) out.push(buildNatsPdb(values, release));
  }
  if (values.storage.mode === 'pvc') out.push(buildModelsPvc(values, release));
  for (const { component, key } of components) {
    const service = values[key];
    if (!service.enabled) continue;
    if (component === 'trainer') {
      out.push(...buildTrainerRbac(release), buildTrainingJobConfigMap(values, release));
      out.push(
        buildServiceDeployment(values, release, component, service, {
          serviceAccountName: trainerServiceAccountName(release),
          volumes: [{ name: 'training-job', configMap: { name: objectName(release, 'training-job') } }],
          mounts: [{ name: 'training-job', mountPath: trainingJobConfigMountPath, readOnly: true }],
          extraEnv: {
            EMOVERSE_TRAINING_JOB_CONFIG: `${trainingJobConfigMountPath}/${trainingJobConfigKey}`,
            EMOVERSE_MAX_CONCURRENT_JOBS: String(values.training.maxConcurrentJobs),
          },
        }),
      );
    } else {
      out.push(buildServiceDeployment(values, release, component, service));
    }
    out.push(
      buildServiceService(
        release,
        component,
        service,
        component === 'gateway' ? values.gateway.serviceType : 'ClusterIP',
      ),
    );
    if (component === 'gateway') {
      if (values.gateway.autoscaling.enabled) out.push(buildGatewayHpa(values, release));
      if (values.gateway.podDisruptionBudget.enabled) out.push(buildGatewayPdb(values, release));
    }
  }
  // Custom resources last, as Helm installs kinds it does not know after the ones it does.
  out.push(...(buildCertificates(values, release) as KubernetesObject[]));
  return out;
}

/**
 * A multi-document YAML stream, like `helm template` prints. Written as YAML 1.1, which kubectl and the API
 * server read, so a string such as `yes` or `on` is quoted instead of turning into a boolean there.
 */
export function toYamlStream(objects: KubernetesObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0, version: '1.1' })}`).join('');
}
