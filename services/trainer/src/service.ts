// The trainer as an EmoVerse service: config from the environment, runs executed locally (child
// processes) or as Kubernetes Jobs, the TrainerService gRPC API. main.ts runs it; tests run it in-process.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobSubmitter, readTrainingJobConfig } from '@emoverse/k8s';
import { TrainerService } from '@emoverse/proto';
import { defineService, GrpcError, natsVariables, status, z } from '@emoverse/service-kit';
import { type Executor, KubernetesExecutor, LocalExecutor } from './executors.js';
import { RejectedRunError } from './grpc-errors.js';
import { RunManager } from './runs.js';

export const trainerConfig = {
  /** Execution provider of runs that name none. */
  EMOVERSE_EP: z.enum(['cpu', 'webgpu', 'cuda']).default('cpu'),
  /** local: child processes on this node; kubernetes: one Job per run (packages/k8s). */
  EMOVERSE_TRAINER_MODE: z.enum(['local', 'kubernetes']).default('local'),
  /** Fetched datasets (object-store runs). */
  EMOVERSE_TRAINER_CACHE: z.string().min(1).default(join(tmpdir(), 'emoverse-trainer-cache')),
  EMOVERSE_CHECKPOINT_EVERY: z.coerce.number().int().positive().default(10),
  /** BPE vocabulary of emoverse-nano trained from scratch. */
  EMOVERSE_NANO_VOCAB: z.coerce.number().int().positive().default(1024),
  /** Local mode: times a crashed worker is restarted (it resumes from its checkpoint). */
  EMOVERSE_TRAINER_MAX_RESTARTS: z.coerce.number().int().min(0).default(2),
};

export function createTrainerService(o: { executor?: Executor } = {}) {
  return defineService({
    name: 'trainer',
    defaultPort: 50064,
    config: trainerConfig,
    async start(ctx) {
      const c = ctx.config;
      const executor =
        o.executor ??
        (c.EMOVERSE_TRAINER_MODE === 'kubernetes'
          ? new KubernetesExecutor(JobSubmitter.inCluster(), await readTrainingJobConfig())
          : new LocalExecutor(
              {
                NATS_URL: c.NATS_URL,
                // The training process connects as the trainer, with the trainer's credentials and TLS.
                ...Object.fromEntries(natsVariables.map((v) => [v, c[v]])),
                EMOVERSE_TRAINER_CACHE: c.EMOVERSE_TRAINER_CACHE,
                EMOVERSE_STREAM_REPLICAS: String(c.EMOVERSE_STREAM_REPLICAS),
              },
              (runId, line) => ctx.logger.debug({ runId }, line),
              c.EMOVERSE_TRAINER_MAX_RESTARTS,
            ));
      const runs = new RunManager({
        bus: ctx.bus,
        executor,
        defaultEp: c.EMOVERSE_EP,
        cacheDir: c.EMOVERSE_TRAINER_CACHE,
        checkpointEvery: c.EMOVERSE_CHECKPOINT_EVERY,
        vocabSize: c.EMOVERSE_NANO_VOCAB,
        log: (msg, fields) => ctx.logger.info(fields ?? {}, msg),
      });
      await runs.start();
      ctx.onShutdown(() => runs.stop());
      const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
        try {
          return await fn();
        } catch (err) {
          throw RejectedRunError(err);
        }
      };
      ctx.addService(TrainerService, {
        startRun: (req) =>
          guard(async () => {
            const run = await runs.startRun(req);
            return { runId: run.runId, run };
          }),
        getRun: (req) => guard(async () => ({ run: await runs.getRun(req.runId) })),
        cancelRun: (req) => guard(async () => ({ run: await runs.cancelRun(req.runId) })),
        async *watchRun(req, call) {
          if (!req.runId) throw new GrpcError(status.INVALID_ARGUMENT, 'run_id is required');
          try {
            yield* runs.watchRun(req.runId, call.signal);
          } catch (err) {
            throw RejectedRunError(err);
          }
        },
      });
    },
  });
}
