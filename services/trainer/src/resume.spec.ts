// Crash and resume against a real nats-server: a `train` process killed with SIGKILL mid-run and
// started again with the same run id continues from its last object-store checkpoint, and its loss
// curve (the saved history and the progress events on NATS) equals that of an uninterrupted run.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fromBinary } from '@bufbuild/protobuf';
import {
  type Bus,
  blobBuckets,
  connectBus,
  digestManifestName,
  events,
  kvBuckets,
  manifestDigest,
} from '@emoverse/bus';
import { ModelPublishedSchema, type TrainingProgress } from '@emoverse/proto';
import { type NatsServer, startNatsServer } from '@emoverse/testing';
import { toyRecipe, writeToyEmt } from '@emoverse/trainer-core/testing';
import { lossCurve, runHistory } from './spec-support.js';

const tmp = mkdtempSync(join(tmpdir(), 'trainer-resume-'));
let nats: NatsServer;
let bus: Bus;
let emt: string;
let recipePath: string;
before(async () => {
  nats = await startNatsServer();
  bus = await connectBus({ ...nats.client(), name: 'resume-spec' });
  emt = writeToyEmt(join(tmp, 'emt'), 24);
  recipePath = join(tmp, 'recipe.json');
  // 4 LM pre-training steps, then 4 + 4 stage steps
  const r = JSON.parse(toyRecipe());
  r.pretraining.samples = 16;
  r.stages[0].samples = 16;
  r.stages[1].samples = 16;
  // the recipe's LoRA dropout (0.05) stays on: its masks are a function of (recipe seed, micro-batch
  // count), and the count is in the checkpoint, so the resumed curve must still be exact
  assert.ok(r.lora.dropout > 0);
  writeFileSync(recipePath, JSON.stringify(r));
});
after(async () => {
  await bus?.close();
  await nats?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

function train(runId: string) {
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=source',
      main,
      'train',
      '--run-id',
      runId,
      '--recipe',
      recipePath,
      '--dataset',
      emt,
      '--vocab-size',
      '300',
      '--checkpoint-every',
      '2',
    ],
    {
      env: { ...process.env, ...nats.env('trainer'), EMOVERSE_EP: 'cpu' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stdout?.on('data', (b) => {
    out += b;
  });
  proc.stderr?.on('data', (b) => {
    out += b;
  });
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, sig) => resolve(code ?? String(sig))),
  );
  return { proc, exited, output: () => out };
}

async function progressOf(runId: string): Promise<Map<number, TrainingProgress>> {
  const seen = new Map<number, TrainingProgress>();
  const sub = await bus.subscribe(
    events.trainingProgress,
    (p) => {
      if (!seen.has(p.step)) seen.set(p.step, p);
    },
    { token: runId, from: 'all' },
  );
  for (let i = 0; i < 100 && (seen.size === 0 || seen.size < [...seen.values()][0].totalSteps); i++)
    await new Promise((r) => setTimeout(r, 50));
  await sub.stop();
  return seen;
}

const events_ = (m: Map<number, TrainingProgress>) =>
  [...m.values()]
    .sort((a, b) => a.step - b.step)
    .map((p) => [
      p.step,
      p.stage,
      p.stageName,
      p.lr,
      p.loss,
      p.tasks.map((t) => [t.task, t.loss, t.weight, t.samplingRate]),
    ]);

describe('train: crash and resume', () => {
  it('a run killed with SIGKILL resumes from its last checkpoint to the same curve', async () => {
    const reference = train('ref');
    assert.equal(await reference.exited, 0, reference.output());
    const refHistory = await runHistory(bus, 'ref');
    assert.equal(refHistory.pretraining.length, 4);
    assert.equal(refHistory.stages.length, 8);

    // the victim: killed as soon as it reports step 7 (third step of stage 1; last checkpoint: step 6)
    const victim = train('crash');
    let killedAfter = 0;
    const sub = await bus.subscribe(
      events.trainingProgress,
      (p) => {
        if (p.step >= 7 && killedAfter === 0) {
          killedAfter = p.step;
          victim.proc.kill('SIGKILL');
        }
      },
      { token: 'crash' },
    );
    assert.equal(await victim.exited, 'SIGKILL', victim.output());
    await sub.stop();
    assert.ok(killedAfter >= 7);
    assert.doesNotMatch(victim.output(), /published/);

    const again = train('crash');
    assert.equal(await again.exited, 0, again.output());
    const resumed = Number(/resumed at step (\d+) of 12/.exec(again.output())?.[1]);
    // at most the steps since the last checkpoint (every 2 steps) were lost
    assert.ok(
      resumed >= killedAfter - 2 && resumed <= killedAfter + 1,
      `resumed at ${resumed}, killed after ${killedAfter}\n${again.output()}`,
    );

    assert.deepEqual(lossCurve(await runHistory(bus, 'crash')), lossCurve(refHistory));
    assert.deepEqual(events_(await progressOf('crash')), events_(await progressOf('ref')));

    // the result is published once the run completes: the registry entry and the adapter blobs
    const kv = await bus.kv(kvBuckets.models);
    const entry = await kv.get('emoverse-nano');
    assert.ok(entry);
    const published = fromBinary(ModelPublishedSchema, entry.value);
    assert.equal(published.runId, 'crash');
    assert.ok(
      await bus.blobs.info({
        bucket: blobBuckets.adapters,
        name: `${published.adapter?.name}/adapter_model.safetensors`,
      }),
    );
    assert.ok(
      await bus.blobs.info({
        bucket: blobBuckets.checkpoints,
        name: `${published.checkpoint?.name}/llm/model.safetensors`,
      }),
    );
    // beside the files, a sha256 manifest whose digest the registry records: gateways verify against it
    for (const [ref, file] of [
      [published.adapter, 'adapter_model.safetensors'],
      [published.checkpoint, 'llm/model.safetensors'],
    ] as const) {
      const bytes = await bus.blobs.get({ bucket: ref!.bucket, name: `${ref!.name}/${digestManifestName}` });
      assert.equal(ref!.digest, manifestDigest(bytes));
      const listed = JSON.parse(new TextDecoder().decode(bytes)).files as Record<string, string>;
      const blob = await bus.blobs.get({ bucket: ref!.bucket, name: `${ref!.name}/${file}` });
      assert.equal(listed[file], createHash('sha256').update(blob).digest('hex'));
    }
  });
});
