// `trainer train --run-id <id> --recipe <r> --dataset <d>`: one run in this process, the entry point of
// the Kubernetes Job (packages/k8s buildTrainingJob) and of the service's local child processes.
// Exit codes: 0 done, 2 input rejected before any compute (badInputExitCode), 3 stopped by a signal
// (resumable), 1 any other failure. Restarted with the same run id it resumes from its checkpoint.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Bus, connectBus } from '@emoverse/bus';
import { badInputExitCode } from '@emoverse/k8s';
import { JobStatus } from '@emoverse/proto';
import { EP_NAMES, isEpName } from '@emoverse/runtime';
import { explainConnectError, natsAuthFromEnv } from '@emoverse/service-kit';
import { checkDevice, type ExecutionProvider } from './base-model.js';
import { parseLocation, resolveBaseModel, resolveDataset } from './dataset.js';
import { planRun } from './plan.js';
import { readRecipe } from './recipe-source.js';
import { DeviceUnavailable, RunRejected } from './rejected.js';
import { runTraining } from './run-training.js';

export const STOPPED_EXIT_CODE = 3;

export interface TrainArgs {
  runId: string;
  recipe: string;
  dataset: string;
  baseModel?: string;
  ep: ExecutionProvider;
  checkpointEvery: number;
  vocabSize: number;
  modelId?: string;
  /** Stop (with a checkpoint) after this many optimizer steps (tests, staged runs). */
  stopAfterStep?: number;
}

export function parseTrainArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): TrainArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      'run-id': { type: 'string' },
      recipe: { type: 'string' },
      dataset: { type: 'string' },
      'base-model': { type: 'string' },
      ep: { type: 'string' },
      'checkpoint-every': { type: 'string' },
      'vocab-size': { type: 'string' },
      'model-id': { type: 'string' },
      'stop-after-step': { type: 'string' },
    },
    strict: true,
  });
  const runId = values['run-id'] ?? env.EMOVERSE_RUN_ID;
  const problems: string[] = [];
  if (!runId) problems.push('--run-id (or EMOVERSE_RUN_ID) is required');
  if (!values.recipe) problems.push('--recipe is required');
  const dataset = values.dataset ?? env.EMOVERSE_DATASET;
  if (!dataset) problems.push('--dataset (or EMOVERSE_DATASET) is required');
  const ep = values.ep ?? env.EMOVERSE_EP ?? 'cpu';
  if (!isEpName(ep)) problems.push(`--ep / EMOVERSE_EP: "${ep}" is not one of ${EP_NAMES.join(', ')}`);
  const int = (name: string, v: string | undefined, fallback?: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) problems.push(`--${name}: "${v}" is not a positive integer`);
    return n;
  };
  const args: TrainArgs = {
    runId: runId as string,
    recipe: values.recipe as string,
    dataset: dataset as string,
    baseModel: values['base-model'],
    ep: ep as ExecutionProvider,
    checkpointEvery: int(
      'checkpoint-every',
      values['checkpoint-every'] ?? env.EMOVERSE_CHECKPOINT_EVERY,
      10,
    ) as number,
    vocabSize: int('vocab-size', values['vocab-size'] ?? env.EMOVERSE_NANO_VOCAB, 1024) as number,
    modelId: values['model-id'],
    stopAfterStep: int('stop-after-step', values['stop-after-step']),
  };
  if (problems.length > 0) throw new RunRejected(problems);
  return args;
}

/** Runs the command; returns the exit code. */
export async function trainCommand(argv: string[]): Promise<number> {
  // a child whose service died has no reader on its pipes: losing log lines must not kill the run
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  const say = (line: string) => process.stdout.write(`[trainer ${new Date().toISOString()}] ${line}\n`);
  let args: TrainArgs;
  try {
    args = parseTrainArgs(argv);
  } catch (err) {
    process.stderr.write(`train: ${(err as Error).message}\n`);
    return badInputExitCode;
  }
  let bus: Bus;
  try {
    const env = { ...process.env, NATS_URL: process.env.NATS_URL || 'nats://127.0.0.1:4222' };
    const auth = natsAuthFromEnv(env);
    bus = await connectBus({
      servers: env.NATS_URL.split(','),
      name: 'trainer-job',
      identity: 'trainer',
      auth,
    }).catch((err: Error) => {
      throw new Error(explainConnectError(env, err));
    });
  } catch (err) {
    process.stderr.write(`train: ${(err as Error).message}\n`);
    return 1;
  }
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping at the next step boundary (with a checkpoint)`);
    controller.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  // a child of the service (IPC channel): when the service dies, stop with a checkpoint instead of
  // training on as an orphan next to the run the restarted service resumes
  const onDisconnect = () => onSignal('SIGHUP');
  if (process.connected) process.once('disconnect', onDisconnect);
  try {
    await checkDevice(args.ep);
    const recipe = await readRecipe(args.recipe, bus.blobs);
    const cacheDir = process.env.EMOVERSE_TRAINER_CACHE ?? join(tmpdir(), 'emoverse-trainer-cache');
    const datasetDir = await resolveDataset(parseLocation(args.dataset), { blobs: bus.blobs, cacheDir });
    const baseModel = args.baseModel
      ? await resolveBaseModel(args.baseModel, { blobs: bus.blobs, cacheDir })
      : undefined;
    const { plan, examples } = await planRun({
      recipe: recipe.text,
      format: recipe.format,
      source: recipe.source,
      datasetDir,
      baseCheckpoint: baseModel,
    });
    say(
      `run ${args.runId}: recipe ${plan.recipe.name}, ${plan.totalSteps} optimizer steps (${plan.pretrainingSteps} LM pre-training), EP ${args.ep}`,
    );
    const outcome = await runTraining(
      {
        runId: args.runId,
        plan,
        examples,
        ep: args.ep,
        checkpointEvery: args.checkpointEvery,
        vocabSize: args.vocabSize,
        modelId: args.modelId,
      },
      bus,
      { signal: controller.signal, log: say, stopAfterStep: args.stopAfterStep },
    );
    if (!outcome.completed) {
      say('stopped before the end; start again with the same run id to resume');
      return STOPPED_EXIT_CODE;
    }
    say('done');
    return 0;
  } catch (err) {
    const rejected = err instanceof RunRejected || err instanceof DeviceUnavailable;
    process.stderr.write(`train: ${rejected ? 'rejected: ' : ''}${(err as Error).message}\n`);
    if (!rejected && process.env.EMOVERSE_LOG_LEVEL === 'debug')
      process.stderr.write(`${(err as Error).stack}\n`);
    const jobs = await bus.jobs();
    await jobs
      .patch(args.runId, {
        kind: 'training',
        status: JobStatus.FAILED,
        error: {
          code: rejected ? 'INVALID_RECIPE' : 'TRAINING_FAILED',
          message: (err as Error).message,
          service: 'trainer',
          retryable: !rejected,
        },
      })
      .catch(() => undefined);
    return rejected ? badInputExitCode : 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('disconnect', onDisconnect);
    await bus.drain().catch(() => undefined);
  }
}
