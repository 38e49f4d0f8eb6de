// The Kubernetes executor: the Job it submits for a run (the worker command with the run's arguments,
// GPUs, node selector and tolerations from the chart's config) and how the Job's phases become the
// run's end. The JobRunner here records calls and plays back phases; JobSubmitter itself is tested
// against a loopback API server in packages/k8s.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultRelease,
  defaultValues,
  type JobStateChange,
  trainingJobConfigFromValues,
} from '@emoverse/k8s';
import { type JobRunner, KubernetesExecutor, type RunSpec, trainArgs } from './executors.js';

const values = defaultValues();
values.training.gpusPerJob = 1;
values.training.executionProvider = 'cuda';
values.training.nodeSelector = { 'emoverse.dev/pool': 'gpu' };
values.training.tolerations = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];
const config = trainingJobConfigFromValues(values, defaultRelease);

const spec: RunSpec = {
  runId: 'run-42',
  recipe: 'os://emoverse-checkpoints/runs/run-42/recipe.yaml',
  dataset: 'os://emoverse-datasets/emt/manifest.json',
  ep: 'cuda',
  modelId: 'emoverse-nano',
};

/** Plays back the given phases; the last one ends the watch. */
function runner(phases: Array<Pick<JobStateChange, 'phase' | 'reason' | 'message'>>) {
  const calls: { submitted: unknown[]; cancelled: string[] } = { submitted: [], cancelled: [] };
  const jobs: JobRunner = {
    async run(job, onChange, options) {
      calls.submitted.push(job);
      let last: JobStateChange | undefined;
      for (const p of phases) {
        if (options?.signal?.aborted) throw new Error('watch cancelled');
        last = { name: job.metadata?.name as string, previous: last?.phase, ...p };
        onChange(last);
        await new Promise((r) => setTimeout(r, 5));
      }
      return last as JobStateChange;
    },
    async cancel(name) {
      calls.cancelled.push(name);
    },
  };
  return { jobs, calls };
}

describe('KubernetesExecutor', () => {
  it('submits the worker as a GPU Job with the run arguments', () => {
    const job = new KubernetesExecutor(runner([]).jobs, config).job(spec);
    const c = job.spec?.template.spec?.containers[0];
    assert.deepEqual(c?.command, ['node', 'services/trainer/dist/main.js', 'train']);
    assert.deepEqual(c?.args, trainArgs(spec));
    assert.deepEqual(c?.args?.slice(0, 6), [
      '--run-id',
      'run-42',
      '--recipe',
      spec.recipe,
      '--dataset',
      spec.dataset,
    ]);
    assert.equal(c?.resources?.limits?.['nvidia.com/gpu'], '1');
    assert.equal(c?.env?.find((e) => e.name === 'EMOVERSE_EP')?.value, 'cuda');
    assert.deepEqual(job.spec?.template.spec?.nodeSelector, { 'emoverse.dev/pool': 'gpu' });
    assert.equal(job.spec?.template.spec?.tolerations?.[0].key, 'nvidia.com/gpu');
    assert.equal(job.metadata?.name, 'emoverse-train-run-42');
  });

  it('reports Running and maps the Job end to the run end', async () => {
    const ends = [];
    for (const phases of [
      [{ phase: 'Pending' }, { phase: 'Running' }, { phase: 'Succeeded' }],
      [{ phase: 'Running' }, { phase: 'Failed', reason: 'PodFailurePolicy', message: 'exit code 2' }],
      [
        { phase: 'Running' },
        { phase: 'Failed', reason: 'BackoffLimitExceeded', message: 'too many retries' },
      ],
      [{ phase: 'Pending' }, { phase: 'Deleted' }],
    ] as const) {
      let running = 0;
      const h = await new KubernetesExecutor(runner([...phases]).jobs, config).start(spec, () => running++);
      const end = await h.done;
      ends.push([end.outcome, running]);
    }
    assert.deepEqual(ends, [
      ['succeeded', 1],
      ['rejected', 1],
      ['failed', 1],
      ['cancelled', 0],
    ]);
  });

  it('cancels by deleting the Job', async () => {
    const { jobs, calls } = runner([{ phase: 'Pending' }, ...Array(50).fill({ phase: 'Running' })]);
    const h = await new KubernetesExecutor(jobs, config).start(spec, () => {});
    await h.cancel();
    assert.deepEqual(calls.cancelled, ['emoverse-train-run-42']);
    assert.equal((await h.done).outcome, 'cancelled');
  });
});
