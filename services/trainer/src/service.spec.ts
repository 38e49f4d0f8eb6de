// The TrainerService over real gRPC and a real nats-server, runs executed as local child processes:
// bad runs are rejected with INVALID_ARGUMENT before anything starts; a run streams its progress
// through WatchRun to SUCCEEDED with its published model; StartRun is idempotent; CancelRun stops a
// run; a dataset in the object store works like a folder.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Bus, blobBuckets, connectBus, events } from '@emoverse/bus';
import {
  JobStatus,
  type ModelPublished,
  RecipeFormat,
  type Run,
  TrainerService,
  type TrainingProgress,
} from '@emoverse/proto';
import { probeExecutionProvider } from '@emoverse/runtime';
import { createClient, type PromiseClient, type RunningService } from '@emoverse/service-kit';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import { toyRecipe, writeToyEmt } from '@emoverse/trainer-core/testing';
import type { ServiceError } from '@grpc/grpc-js';
import { createTrainerService } from './service.js';

const tmp = mkdtempSync(join(tmpdir(), 'trainer-service-'));
let nats: NatsServer;
let bus: Bus;
let service: RunningService;
let client: PromiseClient<typeof TrainerService>;
let emt: string;

before(async () => {
  nats = await startNatsServer();
  bus = await connectBus({ ...nats.client(), name: 'trainer-spec' });
  emt = writeToyEmt(join(tmp, 'emt'));
  service = await createTrainerService().run({
    env: {
      ...nats.env('trainer'),
      EMOVERSE_GRPC_HOST: '127.0.0.1',
      EMOVERSE_GRPC_PORT: '0',
      EMOVERSE_LOG_LEVEL: 'warn',
      EMOVERSE_NANO_VOCAB: '300',
      EMOVERSE_CHECKPOINT_EVERY: '2',
      EMOVERSE_TRAINER_CACHE: join(tmp, 'cache'),
    },
  });
  client = createClient(TrainerService, `127.0.0.1:${service.port}`);
});
after(async () => {
  client?.close();
  await service?.stop();
  await bus?.close();
  await nats?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function invalid(pattern: RegExp) {
  return (err: ServiceError) => {
    assert.equal(err.code, 3, `INVALID_ARGUMENT expected, got ${err.code}: ${err.details}`);
    assert.match(err.details, pattern);
    return true;
  };
}

/** Every update of WatchRun until it ends. */
async function watch(runId: string) {
  const runs: Run[] = [];
  const progress: TrainingProgress[] = [];
  for await (const u of client.watchRun({ runId })) {
    if (u.update.case === 'run') runs.push(u.update.value);
    if (u.update.case === 'progress') progress.push(u.update.value);
  }
  return { runs, progress, last: runs[runs.length - 1] };
}

describe('TrainerService', () => {
  it('rejects bad runs with INVALID_ARGUMENT before anything starts', async () => {
    const start = (recipe: string, runId: string, dataset = emt) =>
      client.startRun({ runId, recipe, dataset: { case: 'datasetPath', value: dataset } });
    await assert.rejects(
      start(toyRecipe({ stage1: { MSA: 0.5, XYZ: 0.5 } }), 'bad-task'),
      invalid(/unknown task "XYZ"/),
    );
    await assert.rejects(
      start(toyRecipe({ stage1: { MSA: 0.7, ER: 0.7 } }), 'bad-rates'),
      invalid(/sampling rates sum to 1\.4, they must sum to 1/),
    );
    const missing = JSON.parse(toyRecipe());
    missing.data.shards.ECPE = ['ecpe/test-*.jsonl'];
    await assert.rejects(
      start(JSON.stringify(missing), 'bad-shard'),
      invalid(/data\.shards\.ECPE: missing shard "ecpe\/test-\*\.jsonl"/),
    );
    await assert.rejects(
      start(toyRecipe(), 'bad-dataset', join(tmp, 'none')),
      invalid(/dataset folder .* does not exist/),
    );
    await assert.rejects(
      client.startRun({
        runId: 'bad-base',
        recipe: toyRecipe(),
        baseModel: join(tmp, 'no-model'),
        dataset: { case: 'datasetPath', value: emt },
      }),
      invalid(/base checkpoint .*no-model: no such folder/),
    );
    await assert.rejects(
      client.startRun({
        runId: 'bad-base-blob',
        recipe: toyRecipe(),
        baseModel: 'os://emoverse-checkpoints/runs/nothing/model',
        dataset: { case: 'datasetPath', value: emt },
      }),
      invalid(/base model os:\/\/emoverse-checkpoints\/runs\/nothing\/model: no model files/),
    );
    // a device this node cannot open: refused before anything starts (CI has no CUDA; a GPU node would accept)
    const cuda = await probeExecutionProvider('cuda');
    if (cuda.available) {
      const r = await client.startRun({
        runId: 'cuda-run',
        recipe: toyRecipe(),
        device: 'cuda',
        dataset: { case: 'datasetPath', value: emt },
      });
      assert.equal((await client.cancelRun({ runId: r.runId })).run?.status, JobStatus.CANCELLED);
    } else {
      await assert.rejects(
        client.startRun({
          runId: 'bad-device',
          recipe: toyRecipe(),
          device: 'cuda',
          dataset: { case: 'datasetPath', value: emt },
        }),
        (err: ServiceError) => err.code === 9 && /device cuda is not available here/.test(err.details),
      );
    }
    await assert.rejects(
      client.startRun({
        runId: 'bad-device-name',
        recipe: toyRecipe(),
        device: 'tpu',
        dataset: { case: 'datasetPath', value: emt },
      }),
      invalid(/device "tpu": expected one of cpu, webgpu, cuda/),
    );
    // nothing was recorded or started for them
    for (const runId of [
      'bad-task',
      'bad-rates',
      'bad-shard',
      'bad-dataset',
      'bad-base',
      'bad-base-blob',
      'bad-device',
      'bad-device-name',
    ]) {
      await assert.rejects(client.getRun({ runId }), (err: ServiceError) => err.code === 5);
    }
  });

  it('trains a run to SUCCEEDED, streaming progress, and publishes the model', async () => {
    let onPublished: (p: ModelPublished) => void = () => {};
    const published = new Promise<ModelPublished>((resolve) => {
      onPublished = resolve;
    });
    const sub = await bus.subscribe(events.modelPublished, (p) => {
      if (p.runId === 'nano-1') onPublished(p);
    });
    const started = await client.startRun({
      runId: 'nano-1',
      recipe: toyRecipe(),
      format: RecipeFormat.JSON,
      dataset: { case: 'datasetPath', value: emt },
      device: 'cpu',
    });
    assert.equal(started.runId, 'nano-1');
    assert.equal(started.run?.totalSteps, 6);
    assert.equal(started.run?.executor, 'local');

    const { runs, progress, last } = await watch('nano-1');
    assert.equal(last.status, JobStatus.SUCCEEDED, last.error?.message);
    assert.ok(runs[0].status === JobStatus.PENDING || runs[0].status === JobStatus.RUNNING);
    // progress: the LM pre-training (stage 0), then the recipe's two stages, step by step
    assert.deepEqual(
      progress.map((p) => [p.step, p.stage]),
      [
        [1, 0],
        [2, 0],
        [3, 1],
        [4, 1],
        [5, 2],
        [6, 2],
      ].slice(6 - progress.length),
    );
    const p5 = progress.find((p) => p.step === 5) ?? progress[progress.length - 1];
    assert.equal(p5.totalSteps, 6);
    assert.ok(p5.lr > 0 && p5.tokensPerS > 0 && Number.isFinite(p5.loss));
    assert.ok(p5.tasks.length > 0 && p5.tasks.every((t) => t.loss > 0 && t.weight > 0 && t.samplingRate > 0));

    const model = await published;
    await sub.stop();
    assert.equal(last.model?.version, 'nano-1');
    assert.equal(model.base, 'emoverse-nano');
    assert.ok(
      await bus.blobs.info({
        bucket: blobBuckets.adapters,
        name: `${model.adapter?.name}/adapter_config.json`,
      }),
    );
    const cfg = JSON.parse(
      new TextDecoder().decode(
        await bus.blobs.get({
          bucket: blobBuckets.adapters,
          name: `${model.adapter?.name}/adapter_config.json`,
        }),
      ),
    );
    assert.equal(cfg.r, 4);
    assert.equal(cfg.lora_alpha, 16);

    // idempotent StartRun, and GetRun
    const again = await client.startRun({
      runId: 'nano-1',
      recipe: toyRecipe(),
      dataset: { case: 'datasetPath', value: emt },
    });
    assert.equal(again.run?.status, JobStatus.SUCCEEDED);
    const got = (await client.getRun({ runId: 'nano-1' })).run;
    assert.equal(got?.status, JobStatus.SUCCEEDED);
    assert.match(got?.checkpoints[0]?.name ?? '', /^runs\/nano-1\/checkpoints\/stages\/step-000000004$/);
  });

  it('restarts a crashed worker, which resumes the run', async () => {
    await client.startRun({
      runId: 'nano-crash',
      recipe: toyRecipe({ name: 'toy-crash' }),
      dataset: { case: 'datasetPath', value: emt },
    });
    let killed = '';
    const executors = new Set<string>();
    for await (const u of client.watchRun({ runId: 'nano-crash' })) {
      if (u.update.case === 'run') executors.add(u.update.value.executor);
      if (u.update.case === 'progress' && u.update.value.step >= 3 && !killed) {
        killed = (await client.getRun({ runId: 'nano-crash' })).run?.executor ?? '';
        process.kill(Number(killed.slice('local:'.length)), 'SIGKILL');
      }
      if (u.update.case === 'run' && u.update.value.status >= JobStatus.SUCCEEDED) {
        assert.equal(u.update.value.status, JobStatus.SUCCEEDED, u.update.value.error?.message);
        break;
      }
    }
    assert.match(killed, /^local:\d+$/);
    const last = (await client.getRun({ runId: 'nano-crash' })).run;
    assert.notEqual(last?.executor, killed, 'a new worker finished the run');
    assert.equal(last?.model?.version, 'nano-crash');
  });

  it('continues from a model published in the object store', async () => {
    await client.startRun({
      runId: 'nano-2',
      recipe: toyRecipe({ name: 'toy-continued' }),
      baseModel: 'os://emoverse-checkpoints/runs/nano-1/model',
      dataset: { case: 'datasetPath', value: emt },
    });
    const { last } = await watch('nano-2');
    assert.equal(last.status, JobStatus.SUCCEEDED, last.error?.message);
    assert.equal(last.model?.version, 'nano-2');
  });

  it('cancels a running run; a dataset in the object store works like a folder', async () => {
    // the toy dataset uploaded as EMT's layout under a prefix of the datasets bucket
    for (const file of [
      'manifest.json',
      ...readdirSync(emt)
        .filter((d) => d !== 'manifest.json')
        .map((d) => `${d}/train-00000.jsonl`),
    ]) {
      await bus.blobs.put(blobBuckets.datasets, `toy/${file}`, new Uint8Array(readFileSync(join(emt, file))));
    }
    const long = JSON.parse(toyRecipe({ name: 'toy-long' }));
    long.stages[1].epochs = 200;
    await client.startRun({
      runId: 'nano-cancel',
      recipe: JSON.stringify(long),
      dataset: { case: 'datasetBlob', value: { bucket: blobBuckets.datasets, name: 'toy/manifest.json' } },
    });
    let cancelled: Run | undefined;
    const updates: string[] = [];
    for await (const u of client.watchRun({ runId: 'nano-cancel' })) {
      updates.push(u.update.case ?? '');
      if (u.update.case === 'progress' && !cancelled)
        cancelled = (await client.cancelRun({ runId: 'nano-cancel' })).run;
      if (u.update.case === 'run' && u.update.value.status === JobStatus.CANCELLED) break;
    }
    assert.equal(cancelled?.status, JobStatus.CANCELLED);
    const run = (await client.getRun({ runId: 'nano-cancel' })).run;
    assert.equal(run?.status, JobStatus.CANCELLED);
    assert.ok((run?.step ?? 0) < (run?.totalSteps ?? 0), 'stopped before the end');
    assert.ok(updates.includes('progress'));
  });
});
