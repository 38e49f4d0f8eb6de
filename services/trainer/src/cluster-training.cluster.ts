// Training on a real three-node JetStream cluster (R3 object store): SIGKILL of the node leading the checkpoint store mid-run, then of the trainer; the checkpoints stay readable and the run resumes to the curve of an uninterrupted one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Bus, blobBuckets, connectBus, events } from '@emoverse/bus';
import { JobStatus, TrainerService } from '@emoverse/proto';
import { createClient } from '@emoverse/service-kit';
import {
  eventuallyWithin,
  type NatsCluster,
  type ServiceProcess,
  startNatsCluster,
  startService,
} from '@emoverse/testing';
import { toyRecipe, writeToyEmt } from '@emoverse/trainer-core/testing';
import { runBlobs } from './run-report.js';
import { lossCurve, runHistory } from './spec-support.js';

const tmp = mkdtempSync(join(tmpdir(), 'trainer-cluster-'));
const CHECKPOINTS = `OBJ_${blobBuckets.checkpoints}`;
/** Samples per phase; at batch 4 each phase is SAMPLES / 4 steps (pre-training, then the two stages). */
const SAMPLES = 48;
const PRETRAINING_STEPS = SAMPLES / 4;
let cluster: NatsCluster;
let bus: Bus;
let emt: string;
let recipe: string;
const services: ServiceProcess[] = [];

before(async () => {
  cluster = await startNatsCluster();
  bus = await connectBus({ ...cluster.client(), name: 'cluster-training-spec', replicas: 3 });
  emt = writeToyEmt(join(tmp, 'emt'), 24);
  const r = JSON.parse(toyRecipe());
  r.pretraining.samples = SAMPLES;
  r.stages[0].samples = SAMPLES;
  r.stages[1].samples = SAMPLES;
  recipe = JSON.stringify(r);
  writeFileSync(join(tmp, 'recipe.json'), recipe);
  // the checkpoint store exists (R3) before training, so its leader can be found and killed
  await bus.blobs.put(blobBuckets.checkpoints, 'cluster-spec/probe', new Uint8Array([1]));
});
after(async () => {
  for (const s of services) await s.stop('SIGKILL');
  await bus?.close();
  await cluster?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function trainer(logLevel = 'warn') {
  const s = await startService('trainer', {
    nats: cluster,
    timeoutMs: 120_000,
    env: {
      EMOVERSE_STREAM_REPLICAS: '3',
      EMOVERSE_LOG_LEVEL: logLevel,
      EMOVERSE_NANO_VOCAB: '300',
      EMOVERSE_CHECKPOINT_EVERY: '2',
      EMOVERSE_TRAINER_CACHE: join(tmp, 'cache'),
    },
  });
  services.push(s);
  return { s, client: createClient(TrainerService, s.grpcAddress) };
}

/** The run's status once it ended, asked again while the cluster elects (at most `ms`). */
function ended(client: ReturnType<typeof createClient<typeof TrainerService>>, runId: string, ms: number) {
  return eventuallyWithin(
    async () => {
      const run = (await client.getRun({ runId })).run;
      return run?.status === JobStatus.SUCCEEDED || run?.status === JobStatus.FAILED ? run : undefined;
    },
    `run ${runId} to end`,
    ms,
    500,
  );
}

/** The step the run's latest stage checkpoint holds, read from the R3 object store. */
async function latestCheckpointStep(runId: string): Promise<number> {
  const pointer = await bus.blobs.get({
    bucket: blobBuckets.checkpoints,
    name: `${runBlobs(runId).checkpoints('stages')}/latest.json`,
  });
  return (JSON.parse(new TextDecoder().decode(pointer)) as { step: number }).step;
}

test('SIGKILL of the checkpoint store leader, then of the trainer: checkpoints stay readable and the run resumes to the same curve', {
  timeout: 420_000,
}, async (t) => {
  const t0 = Date.now();
  const stage = (what: string) => t.diagnostic(`${Date.now() - t0} ms: ${what}`);
  const first = await trainer();
  const start = (runId: string) =>
    first.client.startRun({ runId, recipe, dataset: { case: 'datasetPath', value: emt } });
  await start('reference');
  const reference = await ended(first.client, 'reference', 180_000);
  assert.equal(reference.status, JobStatus.SUCCEEDED, JSON.stringify(reference.error));
  stage('reference run done');

  // Kill the node leading the checkpoint store at the first stage step; once the R3 store holds a
  // checkpoint written with that node down, kill the trainer (its worker stops at the next step
  // boundary with one more checkpoint).
  const victimNode = await cluster.leaderOf(CHECKPOINTS);
  let nodeKilledAt = 0;
  const sub = await bus.subscribe(
    events.trainingProgress,
    (p) => {
      if (nodeKilledAt || p.step <= PRETRAINING_STEPS) return;
      nodeKilledAt = p.step;
      void cluster.kill(victimNode).then(() => stage(`${victimNode} killed at step ${p.step}`));
    },
    { token: 'victim' },
  );
  await start('victim');
  await eventuallyWithin(async () => nodeKilledAt > 0, 'the first stage step', 120_000);
  const writtenDown = await eventuallyWithin(
    async () => {
      const step = PRETRAINING_STEPS + (await latestCheckpointStep('victim').catch(() => 0));
      return step >= nodeKilledAt + 2 ? step : undefined;
    },
    'a checkpoint written with the node down',
    90_000,
  );
  first.s.proc.kill('SIGKILL');
  await first.s.exited;
  stage(`trainer killed after the checkpoint at step ${writtenDown}`);
  await sub.stop();
  first.client.close();

  // With the node down, the store still answers: the run's checkpoint from after the kill is readable.
  assert.equal(cluster.node(victimNode).running(), false);
  assert.notEqual(await cluster.leaderOf(CHECKPOINTS), victimNode, 'another node leads the checkpoint store');
  // (the pointer holds the stage step; global step = pre-training steps + it)
  const stoppedAt =
    PRETRAINING_STEPS +
    (await eventuallyWithin(() => latestCheckpointStep('victim'), 'the victim checkpoint pointer', 30_000));
  assert.ok(
    stoppedAt >= writtenDown,
    `the last checkpoint at step ${stoppedAt}, one at ${writtenDown} before the kill`,
  );

  // A new trainer resumes the run from that checkpoint, still with the node down, to the reference's curve.
  const second = await trainer('debug');
  const victim = await ended(second.client, 'victim', 240_000);
  assert.equal(victim.status, JobStatus.SUCCEEDED, JSON.stringify(victim.error));
  second.client.close();
  stage('victim resumed and done');
  assert.deepEqual(lossCurve(await runHistory(bus, 'victim')), lossCurve(await runHistory(bus, 'reference')));

  // The node comes back and catches up: it is a current replica of the store again.
  await cluster.start(victimNode);
  await cluster.waitHealthy(60_000);
  await eventuallyWithin(
    async () => {
      const info = await bus.jsm.streams.info(CHECKPOINTS);
      const replica = info.cluster?.replicas?.find((r) => r.name === victimNode);
      return replica?.current && !replica.offline;
    },
    `${victimNode} to catch up on ${CHECKPOINTS}`,
    60_000,
  );
  assert.ok(Date.now() - t0 < 400_000, `took ${Date.now() - t0} ms`);
});
