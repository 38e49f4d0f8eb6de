// One training run, in the process that does the compute (a child of the service, or a Kubernetes
// Job's pod): trainer-core's trainRun (the road `npm run experiment` takes too) with the run's bus
// I/O around it: progress and job state at every optimizer step, checkpoints in the object store, and
// at the end the served model folder and PEFT adapter uploaded and published in the model registry
// (packages/bus). Started again with the same run id it resumes from the last checkpoint: same data
// order, same loss curve (packages/m2se's loop).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { type Bus, blobBuckets, ModelRegistry } from '@emoverse/bus';
import type { StepLog } from '@emoverse/m2se';
import { ADAPTER_FILES, MODEL_FILES } from '@emoverse/models';
import { type BlobRef, JobStatus, type ModelPublished } from '@emoverse/proto';
import {
  type ExecutionProvider,
  type PlannedRun,
  type TrainRunResult,
  trainRun,
} from '@emoverse/trainer-core';
import { RunReport, runBlobs } from './run-report.js';

export interface TrainingJob {
  runId: string;
  run: PlannedRun;
  ep: ExecutionProvider;
  /** Checkpoint every this many optimizer steps (and at stage ends). */
  checkpointEvery: number;
  /** BPE vocabulary of a from-scratch model whose recipe names none. */
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

export interface RunOptions {
  signal?: AbortSignal;
  log?: (line: string) => void;
  stopAfterStep?: number;
}

/** Uploads a completed run's folders from `work` and records them in the registry as the run's version. */
async function publishRun(bus: Bus, job: TrainingJob, work: string, result: TrainRunResult) {
  const { runId, run } = job;
  const names = runBlobs(runId);
  const adapter =
    result.adapterDir &&
    (await ModelRegistry.upload(bus, {
      dir: result.adapterDir,
      files: ADAPTER_FILES,
      bucket: blobBuckets.adapters,
      name: names.adapter,
    }));
  const checkpoint = await ModelRegistry.upload(bus, {
    dir: join(work, 'model'),
    files: MODEL_FILES,
    bucket: blobBuckets.checkpoints,
    name: names.model,
  });
  const steps = run.plan.totalSteps;
  const final = result.history.stages[result.history.stages.length - 1];
  return ModelRegistry.publish(bus, {
    modelId: job.modelId || run.recipe.model.base,
    version: runId,
    base: run.recipe.model.base,
    adapter: adapter ? { ...adapter, contentType: 'application/x-peft-lora' } : undefined,
    checkpoint: { ...checkpoint, contentType: 'application/x-emoverse-lm' },
    runId,
    metrics: final ? { final_loss: final.loss, steps } : { steps },
    publishedAt: timestampNow(),
  });
}

export async function runTraining(job: TrainingJob, bus: Bus, o: RunOptions = {}): Promise<TrainingOutcome> {
  const log = o.log ?? (() => {});
  const report = new RunReport({ bus, jobs: await bus.jobs(), runId: job.runId, plan: job.run.plan, log });
  await report.state(JobStatus.RUNNING);
  const work = mkdtempSync(join(tmpdir(), `emoverse-run-${job.runId.replace(/[^\w-]/g, '_')}-`));
  try {
    const result = await trainRun(job.run, {
      ep: job.ep,
      defaultVocabSize: job.vocabSize,
      stores: report.stores(),
      checkpointEvery: job.checkpointEvery,
      outDir: { model: join(work, 'model'), adapter: join(work, 'adapter') },
      onStep: report.step,
      signal: o.signal,
      stopAfterStep: o.stopAfterStep,
      log,
    });
    await report.history(result.history);
    const outcome = {
      completed: result.completed,
      resumedFrom: report.resumedFrom ?? job.run.plan.totalSteps,
      history: result.history,
    };
    if (!result.completed) return outcome;
    const published = await publishRun(bus, job, work, result);
    const outputs = [published.adapter, published.checkpoint].filter((b): b is BlobRef => b !== undefined);
    await report.state(JobStatus.SUCCEEDED, outputs);
    log(`published ${published.modelId} version ${published.version}`);
    return { ...outcome, published };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
