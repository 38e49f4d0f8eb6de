import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, beforeEach, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import {
  buildTrainingJob,
  defaultRelease,
  type JobStateChange,
  JobSubmitter,
  loadValuesFiles,
  terminalPhases,
  trainingJobConfigFromValues,
  trainingJobSelector,
} from './index.js';
import { FakeApiServer } from './private/fake-api-server.js';
import { chartDir } from './private/repo-paths.js';

const namespace = 'emoverse';

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'loopback', server, skipTLSVerify: true }],
    users: [{ name: 'trainer', token: 'sa-token' }],
    contexts: [{ name: 'loopback', cluster: 'loopback', user: 'trainer', namespace }],
    currentContext: 'loopback',
  });
  return kc;
}

describe('JobSubmitter against a loopback API server', () => {
  const api = new FakeApiServer(namespace);
  let submitter: JobSubmitter;
  let gpuJob: ReturnType<typeof buildTrainingJob>;

  before(async () => {
    submitter = new JobSubmitter(kubeConfig(await api.start()), namespace);
    const values = await loadValuesFiles(`${chartDir}/values.yaml`, `${chartDir}/values-gpu.yaml`);
    gpuJob = buildTrainingJob(
      { runId: 'm2se-1', recipe: 'recipes/m2se.yaml' },
      trainingJobConfigFromValues(values, defaultRelease),
    );
  });
  after(() => api.stop());
  beforeEach(() => {
    api.jobs.clear();
    api.requests.length = 0;
    api.forbidCreate = false;
  });

  test('creates the GPU Job and reports Pending → Running → Succeeded', async () => {
    const changes: JobStateChange[] = [];
    const opened = once(api, 'watch');
    const done = submitter.run(gpuJob, (c) => changes.push(c));
    await opened;
    const name = gpuJob.metadata?.name as string;
    api.setStatus(name, { active: 1, ready: 1 });
    api.setStatus(name, { active: 1, ready: 1 }); // no change of phase: not reported again
    api.setStatus(name, {
      succeeded: 1,
      conditions: [{ type: 'Complete', status: 'True', reason: 'Completed' }],
    });
    const unwatched = once(api, 'unwatch');
    const last = await done;
    await unwatched; // the client hung up: the watch is not left open once the Job ended
    assert.deepEqual(
      changes.map((c) => [c.previous, c.phase]),
      [
        [undefined, 'Pending'],
        ['Pending', 'Running'],
        ['Running', 'Succeeded'],
      ],
    );
    assert.equal(last.phase, 'Succeeded');
    const stored = api.jobs.get(name);
    assert.equal(stored?.spec?.template.spec?.containers[0].resources?.limits?.['nvidia.com/gpu'], '1');
    assert.ok(
      api.authorizations.every((a) => a === 'Bearer sa-token'),
      'every request carries the token',
    );
    assert.equal(api.openWatches, 0);
  });

  test('reopens a watch the server closed and reports the failure reason', async () => {
    const changes: JobStateChange[] = [];
    const name = gpuJob.metadata?.name as string;
    let opened = once(api, 'watch');
    const done = submitter.run(gpuJob, (c) => changes.push(c));
    await opened;
    api.setStatus(name, { active: 1 });
    opened = once(api, 'watch');
    api.closeWatches(); // the API server's watch timeout
    await opened;
    api.setStatus(name, {
      failed: 3,
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      ],
    });
    const last = await done;
    assert.deepEqual(
      changes.map((c) => c.phase),
      ['Pending', 'Running', 'Failed'],
    );
    assert.equal(last.reason, 'BackoffLimitExceeded');
    assert.equal(api.requests.filter((r) => r.endsWith('?watch')).length, 2);
  });

  test('a Job deleted while watched ends as Deleted', async () => {
    const changes: JobStateChange[] = [];
    const opened = once(api, 'watch');
    const done = submitter.run(gpuJob, (c) => changes.push(c));
    await opened;
    await submitter.cancel(gpuJob.metadata?.name as string);
    assert.equal((await done).phase, 'Deleted');
    assert.deepEqual(
      changes.map((c) => c.phase),
      ['Pending', 'Deleted'],
    );
  });

  test('a restarted controller submitting the same run gets the existing Job', async () => {
    const first = await submitter.submit(gpuJob);
    const again = await submitter.submit(gpuJob);
    assert.equal(again.metadata?.uid, first.metadata?.uid);
    assert.equal(api.jobs.size, 1);
    assert.deepEqual(
      api.requests.map((r) => r.split(' ')[0]),
      ['POST', 'POST', 'GET'],
    );
  });

  test('RBAC refusal surfaces the API server message', async () => {
    api.forbidCreate = true;
    await assert.rejects(submitter.submit(gpuJob), /HTTP 403.*cannot create resource "jobs"/);
  });

  test('the peer rejects an invalid Job with 422, and the client reports why', async () => {
    const bad = structuredClone(gpuJob);
    (bad.spec as { backoffLimit: unknown }).backoffLimit = 'two';
    await assert.rejects(submitter.submit(bad), /HTTP 422.*backoffLimit must be integer/);
    assert.equal(api.jobs.size, 0);
  });

  test("lists a release's training Jobs with their phases (for maxConcurrentJobs and re-attaching)", async () => {
    const values = await loadValuesFiles(`${chartDir}/values.yaml`, `${chartDir}/values-gpu.yaml`);
    const config = trainingJobConfigFromValues(values, defaultRelease);
    for (const runId of ['a', 'b', 'c'])
      await submitter.submit(buildTrainingJob({ runId, recipe: 'r.yaml' }, config));
    const other = buildTrainingJob({ runId: 'x', recipe: 'r.yaml' }, { ...config, releaseName: 'staging' });
    await submitter.submit(other);
    api.setStatus('emoverse-train-a', { active: 1 });
    api.setStatus('emoverse-train-b', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
    const jobs = await submitter.list(trainingJobSelector(defaultRelease));
    assert.deepEqual(jobs.map((j) => [j.name, j.phase]).sort(), [
      ['emoverse-train-a', 'Running'],
      ['emoverse-train-b', 'Succeeded'],
      ['emoverse-train-c', 'Pending'],
    ]);
    assert.equal(jobs.filter((j) => !terminalPhases.has(j.phase)).length, 2);
  });

  test('watching a Job that does not exist reports Deleted at once', async () => {
    const changes: JobStateChange[] = [];
    const last = await submitter.watch('emoverse-train-missing', (c) => changes.push(c));
    assert.equal(last.phase, 'Deleted');
    assert.equal(changes.length, 1);
  });
});
