// The training Job the trainer submits: GPUs, node pool, shm, the chart's config, and its independence from serving values.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { KubernetesObject, V1Deployment, V1Job } from '@kubernetes/client-node';
import {
  buildTrainingJob,
  buildTrainingJobConfigMap,
  defaultRelease,
  defaultValues,
  type EmoverseValues,
  loadValuesFiles,
  mergeValues,
  readTrainingJobConfig,
  renderManifests as renderAll,
  trainingJobConfigFromValues,
  trainingJobName,
  validateObject,
} from './index.js';
import { chartDir } from './private/repo-paths.js';

const gpuValues = () => loadValuesFiles(`${chartDir}/values.yaml`, `${chartDir}/values-gpu.yaml`);
const run = { runId: 'm2se-2026-11-26', recipe: 'recipes/m2se.yaml' };

function trainingJob(values: EmoverseValues): V1Job {
  return buildTrainingJob(run, trainingJobConfigFromValues(values, defaultRelease));
}

describe('the GPU training Job the trainer submits', () => {
  test('requests GPUs, lands on the GPU pool, mounts a memory-backed /dev/shm, and validates', async () => {
    const values = await gpuValues();
    const job = trainingJob(values);
    assert.deepEqual(validateObject(job), []);
    const pod = job.spec?.template.spec;
    const c = pod?.containers[0];
    assert.equal(c?.resources?.limits?.['nvidia.com/gpu'], '1');
    assert.deepEqual(pod?.nodeSelector, values.training.nodeSelector);
    assert.deepEqual(pod?.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    const shm = pod?.volumes?.find((v) => v.name === 'shm');
    assert.deepEqual(shm?.emptyDir, { medium: 'Memory', sizeLimit: '16Gi' });
    assert.ok(c?.volumeMounts?.some((m) => m.name === 'shm' && m.mountPath === '/dev/shm'));
    assert.ok(c?.volumeMounts?.some((m) => m.name === 'models' && m.mountPath === '/var/lib/emoverse'));
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.EMOVERSE_EP, 'cuda');
    assert.equal(env.EMOVERSE_RUN_ID, run.runId);
    assert.match(env.NVIDIA_DRIVER_CAPABILITIES ?? '', /graphics/);
    assert.equal(pod?.restartPolicy, 'Never');
    assert.deepEqual(c?.args, ['--run-id', run.runId, '--recipe', 'recipes/m2se.yaml']);
  });

  test('on CPU values the Job asks for no GPU; a run may override GPUs and EP', () => {
    const cpu = trainingJob(defaultValues());
    assert.equal(cpu.spec?.template.spec?.containers[0].resources?.limits?.['nvidia.com/gpu'], undefined);
    const config = trainingJobConfigFromValues(defaultValues(), defaultRelease);
    const webgpu = buildTrainingJob({ ...run, gpus: 2, executionProvider: 'webgpu' }, config);
    const c = webgpu.spec?.template.spec?.containers[0];
    assert.equal(c?.resources?.limits?.['nvidia.com/gpu'], '2');
    assert.equal(c?.env?.find((e) => e.name === 'EMOVERSE_EP')?.value, 'webgpu');
    assert.equal(c?.env?.filter((e) => e.name === 'EMOVERSE_EP').length, 1);
    assert.throws(() => buildTrainingJob({ ...run, gpus: 0.5 }, config), /non-negative integer/);
    assert.throws(() => buildTrainingJob({ ...run, recipe: '' }, config), /needs a recipe/);
  });

  test('Job names are DNS-1123 labels of at most 63 characters, distinct for distinct long run ids', () => {
    assert.equal(trainingJobName('emoverse', 'M2SE_run.1'), 'emoverse-train-m2se-run-1');
    const a = trainingJobName('emoverse', `ablation-${'x'.repeat(80)}-a`);
    const b = trainingJobName('emoverse', `ablation-${'x'.repeat(80)}-b`);
    assert.ok(a.length <= 63 && b.length <= 63);
    assert.notEqual(a, b);
    assert.match(a, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    assert.throws(() => trainingJobName('emoverse', '__'), /no letters or digits/);
  });

  test('the config the chart mounts gives the trainer controller the same Job', async () => {
    const values = await gpuValues();
    const configMap = buildTrainingJobConfigMap(values, defaultRelease);
    const dir = mkdtempSync(join(tmpdir(), 'emoverse-job-'));
    try {
      const file = join(dir, 'training-job.json');
      writeFileSync(file, configMap.data?.['training-job.json'] ?? '');
      const config = await readTrainingJobConfig(file);
      assert.deepEqual(buildTrainingJob(run, config), trainingJob(values));
      writeFileSync(file, '{"namespace":"x"}');
      await assert.rejects(readTrainingJobConfig(file), /lacks "releaseName"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GPU training and serving replicas scale independently', () => {
  // Generated Secret values are random per render: fixed here so that two renders can be compared.
  const renderManifests = (v: EmoverseValues) =>
    renderAll(v, defaultRelease, { secrets: () => 'Fixed0password' });
  const key = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}`;
  const changedKeys = (a: KubernetesObject[], b: KubernetesObject[]) => {
    const before = new Map(a.map((o) => [key(o), JSON.stringify(o)]));
    return b.filter((o) => before.get(key(o)) !== JSON.stringify(o)).map(key);
  };

  test('changing training values changes only the training Job config, never a serving object', async () => {
    const base = await gpuValues();
    const scaledTraining = mergeValues<EmoverseValues>(base, {
      training: {
        gpusPerJob: 8,
        shmSize: '64Gi',
        maxConcurrentJobs: 2,
        nodeSelector: { 'emoverse.dev/pool': 'h100' },
      },
    });
    const changed = changedKeys(renderManifests(base), renderManifests(scaledTraining));
    // The controller's Deployment carries maxConcurrentJobs; everything serving stays byte-identical.
    assert.deepEqual(changed.sort(), ['ConfigMap/emoverse-training-job', 'Deployment/emoverse-trainer']);
    const gw = (objs: KubernetesObject[]) => objs.filter((o) => o.metadata?.name === 'emoverse-gateway');
    assert.deepEqual(gw(renderManifests(scaledTraining)), gw(renderManifests(base)));
    assert.equal(
      trainingJob(scaledTraining).spec?.template.spec?.containers[0].resources?.limits?.['nvidia.com/gpu'],
      '8',
    );
  });

  test('changing serving replicas, GPUs or autoscaling never changes the training Job', async () => {
    const base = await gpuValues();
    const scaledServing = mergeValues<EmoverseValues>(base, {
      gateway: {
        replicas: 10,
        gpus: 2,
        autoscaling: { minReplicas: 6, maxReplicas: 20 },
        nodeSelector: { pool: 'l4' },
      },
      auScorer: { replicas: 9 },
      frameExtractor: { replicas: 4 },
    });
    assert.deepEqual(trainingJob(scaledServing), trainingJob(base));
    const changed = changedKeys(renderManifests(base), renderManifests(scaledServing));
    assert.ok(!changed.some((k) => k.includes('train')), changed.join(', '));
    assert.deepEqual(changed.sort(), [
      'Deployment/emoverse-au-scorer',
      'Deployment/emoverse-frame-extractor',
      'Deployment/emoverse-gateway',
      'HorizontalPodAutoscaler/emoverse-gateway',
    ]);
    const gw = renderManifests(scaledServing).find(
      (o) => key(o) === 'Deployment/emoverse-gateway',
    ) as V1Deployment;
    assert.equal(gw.spec?.template.spec?.containers[0].resources?.limits?.['nvidia.com/gpu'], '2');
  });
});
