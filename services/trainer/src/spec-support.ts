// What the trainer's run specs share: a run's loss curve from the checkpoint store, and a run's final status.
import { type Bus, blobBuckets } from '@emoverse/bus';
import type { StepLog } from '@emoverse/m2se';
import { JobStatus, type TrainerService } from '@emoverse/proto';
import type { createClient } from '@emoverse/service-kit';
import { runBlobs } from './run-report.js';

type TrainerClient = ReturnType<typeof createClient<typeof TrainerService>>;

/** A run's step log (pretraining, then the M2SE stages), as the run stored it beside its checkpoints. */
export async function runHistory(
  bus: Bus,
  runId: string,
): Promise<{ pretraining: StepLog[]; stages: StepLog[] }> {
  const bytes = await bus.blobs.get({ bucket: blobBuckets.checkpoints, name: runBlobs(runId).history });
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** What must be identical between two runs of one recipe: everything but wall-clock numbers. */
export const lossCurve = (h: { pretraining: StepLog[]; stages: StepLog[] }) =>
  [...h.pretraining, ...h.stages].map((s) => [
    s.stageName,
    s.globalStep,
    s.epoch,
    s.lr,
    s.losses,
    s.weights,
    s.loss,
    s.tokens,
  ]);

/** The status a run ends with, following WatchRun to its end. */
export async function finalStatus(client: TrainerClient, runId: string): Promise<JobStatus> {
  let status = JobStatus.UNSPECIFIED;
  for await (const u of client.watchRun({ runId }))
    if (u.update.case === 'run') status = u.update.value.status;
  return status;
}
