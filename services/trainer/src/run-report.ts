// What a training run tells the bus as it goes: a TrainingProgress event at every optimizer step (the
// step number as message id, so a step replayed after a crash is stored once), its job state in KV
// (status, stage, progress, the latest checkpoint), its checkpoints in the object store, and its loss
// history at the end. One per run, in the process that does the compute.
import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { type Bus, blobBuckets, events, type JobStore } from '@emoverse/bus';
import type { CheckpointStore, RecipePhase, StepLog, StepProgress, TaskName } from '@emoverse/m2se';
import {
  type BlobRef,
  JobStatus,
  type TrainingProgress,
  TrainingProgressSchema,
  taskFromName,
  taskName,
} from '@emoverse/proto';
import type { RunPlan } from '@emoverse/trainer-core';
import { ObjectStoreCheckpointStore } from './object-checkpoints.js';

/** Object-store names of a run, all under runs/<run id>/. */
export const runBlobs = (runId: string) => ({
  checkpoints: (phase: RecipePhase) => `runs/${runId}/checkpoints/${phase}`,
  history: `runs/${runId}/history.json`,
  model: `runs/${runId}/model`,
  adapter: `runs/${runId}/adapter`,
  recipe: (ext: string) => `runs/${runId}/recipe.${ext}`,
});

/** TrainingProgress of one optimizer step; the stages' steps are numbered after the pre-training steps. */
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

/** The log line of a step: every task's loss at its weight. */
function stepLine(ev: TrainingProgress, stageName: string): string {
  const tasks = ev.tasks.map(
    (t) => `${taskName(t.task).toUpperCase()} ${t.loss.toFixed(3)}@${t.weight.toFixed(2)}`,
  );
  return `step ${ev.step}/${ev.totalSteps} ${stageName} lr ${ev.lr.toExponential(2)} ${tasks.join(' ')} ${ev.tokensPerS.toFixed(0)} tok/s`;
}

export interface RunReportOptions {
  bus: Bus;
  jobs: JobStore;
  runId: string;
  plan: RunPlan;
  log: (line: string) => void;
}

export class RunReport {
  private readonly checkpoints: BlobRef[] = [];
  private last?: TrainingProgress;
  /** Steps a checkpoint covered when this process started (0 for a fresh run); set at the first step. */
  resumedFrom?: number;

  constructor(private readonly o: RunReportOptions) {}

  /** The run's checkpoint stores in the object store; each save is logged and recorded in the job state. */
  stores(): Record<RecipePhase, CheckpointStore> {
    const store = (phase: RecipePhase) =>
      new ObjectStoreCheckpointStore(
        this.o.bus.blobs,
        blobBuckets.checkpoints,
        runBlobs(this.o.runId).checkpoints(phase),
        (step, ref) => {
          this.checkpoints.push(ref);
          this.o.log(`checkpoint ${phase} step ${step}`);
        },
      );
    return { pretraining: store('pretraining'), stages: store('stages') };
  }

  /** One optimizer step: the progress event, a log line every 10 steps, the job state. */
  readonly step = async (phase: RecipePhase, p: StepProgress): Promise<void> => {
    const { runId, plan, log } = this.o;
    const ev = progressEvent(runId, phase, p, plan);
    if (this.resumedFrom === undefined) {
      this.resumedFrom = ev.step - 1;
      if (this.resumedFrom > 0) log(`resumed at step ${this.resumedFrom} of ${plan.totalSteps}`);
    }
    this.last = ev;
    await this.o.bus.publish(events.trainingProgress, ev, {
      token: runId,
      msgId: `${runId}/progress/${ev.step}`,
    });
    if (ev.step === 1 || ev.step % 10 === 0 || ev.step === ev.totalSteps) log(stepLine(ev, p.stageName));
    await this.state(JobStatus.RUNNING);
  };

  /**
   * The job state: status, stage and progress of the last step, and the outputs: `outputs` when given
   * (the published folders) or the previous ones, with the latest checkpoint in place of older ones.
   */
  state(status: JobStatus, outputs?: BlobRef[]) {
    const { last, checkpoints } = this;
    return this.o.jobs.patch(this.o.runId, (cur) => ({
      kind: 'training',
      status,
      error: undefined,
      stage: last ? `stage${last.stage}` : (cur?.stage ?? ''),
      progress: last ? last.step / Math.max(1, last.totalSteps) : (cur?.progress ?? 0),
      attributes: { ...(cur?.attributes ?? {}) },
      outputs: [
        ...(outputs ?? (cur?.outputs ?? []).filter((b) => !b.name.includes('/checkpoints/'))),
        ...checkpoints.slice(-1),
      ],
    }));
  }

  /** The loss history of both phases, beside the checkpoints (what a resumed run must reproduce). */
  async history(history: { pretraining: StepLog[]; stages: StepLog[] }): Promise<void> {
    await this.o.bus.blobs.put(
      blobBuckets.checkpoints,
      runBlobs(this.o.runId).history,
      new TextEncoder().encode(JSON.stringify(history)),
      'application/json',
    );
  }
}
