// The service killed with SIGKILL while a local run trains: its worker notices (IPC channel closed),
// stops at the next step boundary with a checkpoint; the restarted service finds the unfinished run in
// the job-state KV, relaunches it, and the run ends with the same loss curve as an uninterrupted one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Bus, blobBuckets, connectBus, events } from '@emoverse/bus';
import { JobStatus, TrainerService } from '@emoverse/proto';
import { createClient } from '@emoverse/service-kit';
import { type NatsServer, type ServiceProcess, startNatsServer, startService } from '@emoverse/testing';
import { toyRecipe, writeToyEmt } from '@emoverse/trainer-core/testing';
import { runBlobs } from './run-report.js';
import { finalStatus, lossCurve, runHistory } from './spec-support.js';

const tmp = mkdtempSync(join(tmpdir(), 'trainer-restart-'));
let nats: NatsServer;
let bus: Bus;
let emt: string;
let recipe: string;
const services: ServiceProcess[] = [];

before(async () => {
  nats = await startNatsServer();
  bus = await connectBus({ ...nats.client(), name: 'restart-spec' });
  emt = writeToyEmt(join(tmp, 'emt'), 24);
  const r = JSON.parse(toyRecipe());
  r.pretraining.samples = 16;
  r.stages[0].samples = 16;
  r.stages[1].samples = 16;
  assert.ok(r.lora.dropout > 0); // the recipe's LoRA dropout: seeded masks resume exactly
  recipe = JSON.stringify(r);
  writeFileSync(join(tmp, 'recipe.json'), recipe);
});
after(async () => {
  for (const s of services) await s.stop('SIGKILL');
  await bus?.close();
  await nats?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function trainer() {
  const s = await startService('trainer', {
    nats,
    env: {
      EMOVERSE_LOG_LEVEL: 'warn',
      EMOVERSE_NANO_VOCAB: '300',
      EMOVERSE_CHECKPOINT_EVERY: '2',
      EMOVERSE_TRAINER_CACHE: join(tmp, 'cache'),
    },
  });
  services.push(s);
  return { s, client: createClient(TrainerService, s.grpcAddress) };
}

describe('trainer service: crash and restart', () => {
  it('resumes a run after the service was killed, to the curve of an uninterrupted run', async () => {
    const first = await trainer();
    const start = (runId: string) =>
      first.client.startRun({ runId, recipe, dataset: { case: 'datasetPath', value: emt } });
    await start('reference');
    assert.equal(await finalStatus(first.client, 'reference'), JobStatus.SUCCEEDED);

    await start('victim');
    const worker = Number(
      /^local:(\d+)$/.exec((await first.client.getRun({ runId: 'victim' })).run?.executor ?? '')?.[1],
    );
    assert.ok(worker > 0, 'the run executes in a child process');
    let killedAfter = 0;
    const sub = await bus.subscribe(
      events.trainingProgress,
      (p) => {
        if (p.step >= 6 && killedAfter === 0) {
          killedAfter = p.step;
          first.s.proc.kill('SIGKILL');
        }
      },
      { token: 'victim' },
    );
    await first.s.exited;
    await sub.stop();
    first.client.close();
    // the orphaned worker stops at its next step boundary (with a checkpoint) instead of training on
    const alive = () => {
      try {
        process.kill(worker, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 300 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(), false, 'the worker exits when the service dies');
    // its last checkpoint is where it stopped: no step after the kill was lost
    const pointer = await bus.blobs.get({
      bucket: blobBuckets.checkpoints,
      name: `${runBlobs('victim').checkpoints('stages')}/latest.json`,
    });
    const stoppedAt = 4 + (JSON.parse(new TextDecoder().decode(pointer)) as { step: number }).step;
    assert.ok(
      stoppedAt >= killedAfter && stoppedAt < 12,
      `stopped at ${stoppedAt}, killed after ${killedAfter}`,
    );

    const second = await trainer();
    assert.equal(await finalStatus(second.client, 'victim'), JobStatus.SUCCEEDED);
    second.client.close();
    assert.deepEqual(
      lossCurve(await runHistory(bus, 'victim')),
      lossCurve(await runHistory(bus, 'reference')),
    );
  });
});
