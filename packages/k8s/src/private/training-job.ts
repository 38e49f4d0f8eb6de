// The Job the trainer controller submits for one training run: GPUs in limits, the GPU node pool's
// nodeSelector and tolerations, a memory-backed /dev/shm, and the models volume for checkpoints/adapters.
// Its config comes from the chart (ConfigMap <release>-training-job, see trainingJobConfigFromValues),
// so GPU training is sized by `training.*` values alone, apart from the serving Deployments.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { V1ConfigMap, V1EnvVar, V1Job, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { containerEnv } from './env.js';
import { labels, objectName, selectorLabels } from './names.js';
import { natsClientTlsMounts } from './secrets.js';
import type { EmoverseValues, ExecutionProvider, Release, TrainingValues } from './values.js';
import {
  containerSecurityContext,
  imageRef,
  podSecurityContext,
  resourceRequirements,
  scheduling,
  storageMounts,
} from './workloads.js';

/** Everything about a training Job that is fixed by the deployment rather than by the run. */
export interface TrainingJobConfig
  extends Pick<
    TrainingValues,
    | 'gpusPerJob'
    | 'executionProvider'
    | 'resources'
    | 'nodeSelector'
    | 'tolerations'
    | 'shmSize'
    | 'backoffLimit'
    | 'activeDeadlineSeconds'
    | 'ttlSecondsAfterFinished'
  > {
  namespace: string;
  releaseName: string;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** The worker's entry point; the run's own arguments follow it. */
  command: string[];
  /** NATS, OTel and storage env shared with the services. */
  env: V1EnvVar[];
  volumes: V1Volume[];
  volumeMounts: V1VolumeMount[];
}

/** One run, as the trainer's gRPC API accepted it. */
export interface TrainingRunSpec {
  runId: string;
  /** Recipe file (YAML or JSON) as the worker resolves it: a path on the models volume or an object-store key. */
  recipe: string;
  /** Extra worker arguments, e.g. ['--resume']. */
  args?: string[];
  /** Overrides config.gpusPerJob for this run (0 runs on CPU nodes' EP but keeps the config's scheduling). */
  gpus?: number;
  executionProvider?: ExecutionProvider;
  env?: Record<string, string>;
}

export const runIdLabel = 'emoverse.dev/run-id';
/** Exit code with which the worker rejects a run before any compute (bad recipe, missing shard). */
export const badInputExitCode = 2;

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const quantity = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$/;

/** `<release>-train-<runId>` as a DNS-1123 label of at most 63 characters (Job names become pod labels). */
export function trainingJobName(releaseName: string, runId: string): string {
  const cleaned = runId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!cleaned)
    throw new Error(`run id ${JSON.stringify(runId)} has no letters or digits to name a Job with`);
  const name = `${releaseName}-train-${cleaned}`;
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(runId).digest('hex').slice(0, 8);
  return `${name.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

export function buildTrainingJob(run: TrainingRunSpec, config: TrainingJobConfig): V1Job {
  const gpus = run.gpus ?? config.gpusPerJob;
  if (!Number.isInteger(gpus) || gpus < 0)
    throw new Error(`gpus must be a non-negative integer, got ${gpus}`);
  if (!quantity.test(config.shmSize))
    throw new Error(`shmSize ${JSON.stringify(config.shmSize)} is not a quantity`);
  if (!run.recipe) throw new Error('a training run needs a recipe');
  const name = trainingJobName(config.releaseName, run.runId);
  const ep = run.executionProvider ?? config.executionProvider;
  const release: Release = { name: config.releaseName, namespace: config.namespace };
  const podLabels = {
    ...labels(release, 'training'),
    [runIdLabel]: dns1123Label.test(run.runId) ? run.runId : name,
  };
  const env: V1EnvVar[] = [
    ...config.env.filter((e) => e.name !== 'EMOVERSE_EP'),
    { name: 'EMOVERSE_EP', value: ep },
    { name: 'EMOVERSE_RUN_ID', value: run.runId },
  ];
  // The NVIDIA container toolkit mounts the driver's Vulkan ICD only with `graphics`; WebGPU (Dawn over
  // Vulkan) needs it, CUDA needs compute/utility.
  if (gpus > 0) env.push({ name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility,graphics' });
  const runEnv = run.env ?? {};
  for (const key of Object.keys(runEnv).sort()) env.push({ name: key, value: runEnv[key] });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: config.namespace, labels: podLabels },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: config.backoffLimit,
      activeDeadlineSeconds: config.activeDeadlineSeconds,
      ttlSecondsAfterFinished: config.ttlSecondsAfterFinished,
      // A rejected recipe fails the Job at once instead of burning retries; a preempted or drained GPU
      // node does not count as a failure (the worker resumes from its last checkpoint).
      podFailurePolicy: {
        rules: [
          {
            action: 'FailJob',
            onExitCodes: { containerName: 'trainer', operator: 'In', values: [badInputExitCode] },
          },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels: podLabels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: podSecurityContext,
          ...scheduling(config.nodeSelector, config.tolerations),
          containers: [
            {
              name: 'trainer',
              image: config.image,
              imagePullPolicy: config.imagePullPolicy,
              command: [...config.command],
              args: ['--run-id', run.runId, '--recipe', run.recipe, ...(run.args ?? [])],
              env,
              resources: resourceRequirements(config.resources, gpus),
              securityContext: containerSecurityContext,
              volumeMounts: [
                { name: 'shm', mountPath: '/dev/shm' },
                { name: 'tmp', mountPath: '/tmp' },
                ...config.volumeMounts,
              ],
            },
          ],
          volumes: [
            { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: config.shmSize } },
            { name: 'tmp', emptyDir: {} },
            ...config.volumes,
          ],
        },
      },
    },
  };
}

/** The config the chart hands the trainer controller, derived from `training.*` (and shared) values only. */
export function trainingJobConfigFromValues(values: EmoverseValues, release: Release): TrainingJobConfig {
  const t = values.training;
  const storage = storageMounts(values, release);
  const tls = natsClientTlsMounts(values, release);
  return {
    namespace: release.namespace,
    releaseName: release.name,
    image: imageRef(t.image),
    imagePullPolicy: t.image.pullPolicy,
    command: ['node', 'services/trainer/dist/main.js', 'train'],
    gpusPerJob: t.gpusPerJob,
    executionProvider: t.executionProvider,
    resources: { requests: { ...t.resources.requests }, limits: { ...t.resources.limits } },
    nodeSelector: { ...t.nodeSelector },
    tolerations: t.tolerations.map((x) => ({ ...x })),
    shmSize: t.shmSize,
    backoffLimit: t.backoffLimit,
    activeDeadlineSeconds: t.activeDeadlineSeconds,
    ttlSecondsAfterFinished: t.ttlSecondsAfterFinished,
    env: containerEnv(values, release, {
      serviceName: 'trainer-job',
      // A training run publishes progress, checkpoints and the model as the trainer.
      natsIdentity: 'trainer',
      executionProvider: t.executionProvider,
      extra: t.env,
    }),
    volumes: [...storage.volumes, ...tls.volumes],
    volumeMounts: [...storage.mounts, ...tls.mounts],
  };
}

export const trainingJobConfigKey = 'training-job.json';
export const trainingJobConfigMountPath = '/etc/emoverse';

/** Object keys sorted, recursively (Go's encoding/json writes maps so). */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]),
  );
}

/**
 * JSON as the chart's template writes it with `toPrettyJson` (Go's json.MarshalIndent): keys sorted, two-space
 * indent, `<`, `>`, `&`, U+2028 and U+2029 escaped. So the ConfigMap is byte for byte the one helm renders.
 */
function goPrettyJson(value: unknown): string {
  return JSON.stringify(sortedKeys(value), null, 2).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** ConfigMap <release>-training-job, mounted into the trainer controller at /etc/emoverse. */
export function buildTrainingJobConfigMap(values: EmoverseValues, release: Release): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: objectName(release, 'training-job'),
      namespace: release.namespace,
      labels: labels(release, 'training'),
    },
    data: {
      [trainingJobConfigKey]: `${goPrettyJson(trainingJobConfigFromValues(values, release))}\n`,
    },
  };
}

/** What the trainer controller calls at start: the config file the chart mounted (EMOVERSE_TRAINING_JOB_CONFIG). */
export async function readTrainingJobConfig(
  path = process.env.EMOVERSE_TRAINING_JOB_CONFIG ?? `${trainingJobConfigMountPath}/${trainingJobConfigKey}`,
): Promise<TrainingJobConfig> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<TrainingJobConfig>;
  for (const key of ['namespace', 'releaseName', 'image', 'command', 'shmSize', 'env'] as const) {
    if (parsed[key] === undefined) throw new Error(`${path}: training Job config lacks "${key}"`);
  }
  return parsed as TrainingJobConfig;
}

/** Selector for all training Jobs of a release (list/watch them, count running ones). */
export function trainingJobSelector(release: Release): string {
  return Object.entries(selectorLabels(release, 'training'))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
