// One training run, in the process that does the compute (a child of the service, or a Kubernetes
// Job's pod): the recipe on the model (LM pre-training, then the LoRA stages), progress on NATS at
// every optimizer step, checkpoints in the object store, and at the end the PEFT adapter and the
// served model folder in the object store and `model.published`. Started again with the same run id
// it resumes from the last checkpoint: same data order, same loss curve (packages/m2se's loop).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import {
  type Bus,
  blobBuckets,
  digestManifestName,
  events,
  kvBuckets,
  writeDigestManifest,
} from '@emoverse/bus';
import {
  type EmtExample,
  type RecipePhase,
  type StepLog,
  type StepProgress,
  type TaskName,
  trainRecipe,
} from '@emoverse/m2se';
import { ADAPTER_FILES, MODEL_FILES } from '@emoverse/models';
import {
  type BlobRef,
  JobStatus,
  type ModelPublished,
  ModelPublishedSchema,
  type TrainingProgress,
  TrainingProgressSchema,
  taskFromName,
  taskName,
} from '@emoverse/proto';
import { createBaseModel, type ExecutionProvider } from './base-model.js';
import { ObjectStoreCheckpointStore } from './object-checkpoints.js';
import type { RunPlan } from './plan.js';

export interface TrainingJob {
  runId: string;
  plan: RunPlan;
  examples: Partial<Record<TaskName, EmtExample[]>>;
  ep: ExecutionProvider;
  /** Checkpoint every this many optimizer steps (and at stage ends). */
  checkpointEvery: number;
  vocabSize: number;
  /** Model id the result is published under (default: the recipe's model.base). */
  modelId?: string;
}

export interface TrainingOutcome {
  completed: boolean;
  /** Steps skipped at start because a checkpoint covered them (0 for a fresh run). */
  resumedFrom: number;
  history: { pretraining: StepLog[]; stages: StepLog[] };
  published?: ModelPublished;
}

/** Object-store names of a run, all under runs/<run id>/. */
export const runBlobs = (runId: string) => ({
  checkpoints: (phase: RecipePhase) => `runs/${runId}/checkpoints/${phase}`,
  history: `runs/${runId}/history.json`,
  model: `runs/${runId}/model`,
  adapter: `runs/${runId}/adapter`,
  recipe: (ext: string) => `runs/${runId}/recipe.${ext}`,
});

/**
 * Uploads a folder's files with their sha256sums.json; the manifest's digest goes into the published BlobRef
 * (the registry, which only the trainer writes), so a gateway can check what it fetched before serving it.
 */
async function uploadFolder(bus: Bus, dir: string, files: readonly string[], bucket: string, name: string) {
  const manifest = await writeDigestManifest(dir, files);
  let size = 0n;
  for (const f of [...manifest.files, digestManifestName])
    size += (await bus.blobs.putFile(bucket, `${name}/${f}`, join(dir, f))).size;
  return { bucket, name, size, digest: manifest.digest };
}

/** TrainingProgress of one optimizer step; `offset` places the stages after the pre-training steps. */
export function progressEvent(
  runId: string,
  phase: RecipePhase,
  p: StepProgress,
  plan: RunPlan,
): TrainingProgress {
  const stagePlan = phase === 'stages' ? plan.stages[p.stage] : plan.pretraining[p.stage];
  const offset = phase === 'stages' ? plan.pretrainingSteps : 0;
  return create(TrainingProgressSchema, {
    runId,
    // 0: the LM pre-training of a from-scratch model; 1..: the recipe's stages
    stage: phase === 'stages' ? p.stage + 1 : 0,
    stageName: p.stageName,
    step: offset + p.globalStep + 1,
    totalSteps: plan.totalSteps,
    epoch: p.epoch + 1,
    loss: p.loss,
    tasks: (Object.keys(p.losses) as TaskName[]).map((t) => ({
      task: taskFromName(t),
      loss: p.losses[t],
      weight: p.weights[t] ?? 1,
      samplingRate: stagePlan?.rates[t] ?? 0,
    })),
    lr: p.lr,
    tokensPerS: p.tokensPerSecond,
    at: timestampNow(),
  });
}

export async function runTraining(
  job: TrainingJob,
  bus: Bus,
  o: { signal?: AbortSignal; log?: (line: string) => void; stopAfterStep?: number } = {},
): Promise<TrainingOutcome> {
  const { runId, plan } = job;
  const { recipe } = plan;
  const log = o.log ?? (() => {});
  const names = runBlobs(runId);
  const jobs = await bus.jobs();
  const checkpoints: BlobRef[] = [];
  const store = (phase: RecipePhase) =>
    new ObjectStoreCheckpointStore(
      bus.blobs,
      blobBuckets.checkpoints,
      names.checkpoints(phase),
      (step, ref) => {
        checkpoints.push(ref);
        log(`checkpoint ${phase} step ${step}`);
      },
    );
  let last: TrainingProgress | undefined;
  const state = (
    status: JobStatus,
    extra: { outputs?: BlobRef[]; attributes?: Record<string, string> } = {},
  ) =>
    jobs.patch(runId, (cur) => ({
      kind: 'training',
      status,
      error: undefined,
      stage: last ? `stage${last.stage}` : (cur?.stage ?? ''),
      progress: last ? last.step / Math.max(1, last.totalSteps) : (cur?.progress ?? 0),
      attributes: { ...(cur?.attributes ?? {}), ...(extra.attributes ?? {}) },
      outputs: extra.outputs
        ? [...extra.outputs, ...checkpoints.slice(-1)]
        : [
            ...(cur?.outputs ?? []).filter((b) => !b.name.includes('/checkpoints/')),
            ...checkpoints.slice(-1),
          ],
    }));

  const model = createBaseModel({
    recipe,
    checkpoint: plan.baseCheckpoint,
    ep: job.ep,
    vocabSize: job.vocabSize,
    examples: job.examples,
  });
  await state(JobStatus.RUNNING);
  let resumedFrom: number | undefined;
  const run = await trainRecipe({
    recipe,
    model,
    examples: job.examples,
    stores: { pretraining: store('pretraining'), stages: store('stages') },
    checkpointEvery: job.checkpointEvery,
    signal: o.signal,
    stopAfterStep: o.stopAfterStep,
    onStep: async (phase, p) => {
      const ev = progressEvent(runId, phase, p, plan);
      if (resumedFrom === undefined) {
        resumedFrom = ev.step - 1;
        if (resumedFrom > 0) log(`resumed at step ${resumedFrom} of ${plan.totalSteps}`);
      }
      last = ev;
      // the step number as message id: a step replayed after a crash is stored once
      await bus.publish(events.trainingProgress, ev, { token: runId, msgId: `${runId}/progress/${ev.step}` });
      if (ev.step === 1 || ev.step % 10 === 0 || ev.step === ev.totalSteps) {
        const tasks = ev.tasks.map(
          (t) => `${taskName(t.task).toUpperCase()} ${t.loss.toFixed(3)}@${t.weight.toFixed(2)}`,
        );
        log(
          `step ${ev.step}/${ev.totalSteps} ${p.stageName} lr ${ev.lr.toExponential(2)} ${tasks.join(' ')} ${ev.tokensPerS.toFixed(0)} tok/s`,
        );
      }
      await state(JobStatus.RUNNING);
    },
  });
  const history = { pretraining: run.pretraining?.history ?? [], stages: run.stages?.history ?? [] };
  const outcome: TrainingOutcome = {
    completed: run.completed,
    resumedFrom: resumedFrom ?? plan.totalSteps,
    history,
  };
  await bus.blobs.put(
    blobBuckets.checkpoints,
    names.history,
    new TextEncoder().encode(JSON.stringify(history)),
    'application/json',
  );
  if (!run.completed || !run.trainer) {
    await run.trainer?.release();
    return outcome;
  }

  // the adapter (PEFT) belongs to run.base (the pre-trained base); the served model merges it
  const work = mkdtempSync(join(tmpdir(), `emoverse-run-${runId.replace(/[^\w-]/g, '_')}-`));
  try {
    const trainer = run.trainer;
    // a LoRA run also publishes its adapter (PEFT); a full-weight run (lora.mode full) has none
    const hasAdapter = trainer.train.adapter !== undefined;
    if (hasAdapter) await trainer.savePeft(join(work, 'adapter'));
    // served prompts are cut to the length the recipe trained with, as the trainer cut them
    const served = (await run.base.withTrained(trainer)).withContextLength(recipe.batch.maxSeqLen);
    await trainer.release();
    served.save(join(work, 'model'));
    await served.release();
    const adapter = hasAdapter
      ? await uploadFolder(bus, join(work, 'adapter'), ADAPTER_FILES, blobBuckets.adapters, names.adapter)
      : undefined;
    const checkpoint = await uploadFolder(
      bus,
      join(work, 'model'),
      MODEL_FILES,
      blobBuckets.checkpoints,
      names.model,
    );
    const final = history.stages[history.stages.length - 1];
    const published = create(ModelPublishedSchema, {
      modelId: job.modelId || recipe.model.base,
      version: runId,
      base: recipe.model.base,
      adapter: adapter && { ...adapter, contentType: 'application/x-peft-lora' },
      checkpoint: { ...checkpoint, contentType: 'application/x-emoverse-lm' },
      runId,
      metrics: final ? { final_loss: final.loss, steps: plan.totalSteps } : { steps: plan.totalSteps },
      publishedAt: timestampNow(),
    });
    // the registry (gateways starting later read it), then the event (running gateways follow it)
    const kv = await bus.kv(kvBuckets.models);
    await kv.put(published.modelId, toBinary(ModelPublishedSchema, published));
    await bus.publish(events.modelPublished, published, {
      msgId: `${published.modelId}/${published.version}/${published.adapterName}`,
    });
    await state(JobStatus.SUCCEEDED, {
      outputs: [published.adapter, published.checkpoint].filter((b): b is BlobRef => b !== undefined),
    });
    log(`published ${published.modelId} version ${published.version}`);
    return { ...outcome, published };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
