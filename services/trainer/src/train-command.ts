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
import { baseConfigSchema, explainConnectError, natsAuthFromEnv } from '@emoverse/service-kit';
import { checkDevice, DeviceUnavailable, type ExecutionProvider, RunRejected } from '@emoverse/trainer-core';
import { parseLocation } from './dataset.js';
import { readRecipe } from './recipe-source.js';
import { planInputs } from './run-inputs.js';
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

const OPTIONS = {
  'run-id': { type: 'string' },
  recipe: { type: 'string' },
  dataset: { type: 'string' },
  'base-model': { type: 'string' },
  ep: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'vocab-size': { type: 'string' },
  'model-id': { type: 'string' },
  'stop-after-step': { type: 'string' },
} as const;

export function parseTrainArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): TrainArgs {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
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

type Say = (line: string) => void;

/**
 * The bus as the trainer (NATS_URL, default a local server; credentials and TLS from the environment),
 * declaring streams and buckets with the services' replica count (EMOVERSE_STREAM_REPLICAS).
 */
function connect(): Promise<Bus> {
  const env = { ...process.env, NATS_URL: process.env.NATS_URL || 'nats://127.0.0.1:4222' };
  return connectBus({
    servers: env.NATS_URL.split(','),
    name: 'trainer-job',
    identity: 'trainer',
    auth: natsAuthFromEnv(env),
    replicas: baseConfigSchema.shape.EMOVERSE_STREAM_REPLICAS.parse(process.env.EMOVERSE_STREAM_REPLICAS),
  }).catch((err: Error) => {
    throw new Error(explainConnectError(env, err));
  });
}

/**
 * Aborts on SIGTERM / SIGINT, and when the service whose child this is dies (its IPC channel closes):
 * the run stops with a checkpoint instead of training on as an orphan beside the run the restarted
 * service resumes. `dispose` removes the listeners.
 */
function stopOnSignals(say: Say): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping at the next step boundary (with a checkpoint)`);
    controller.abort();
  };
  const onDisconnect = () => onSignal('SIGHUP');
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  if (process.connected) process.once('disconnect', onDisconnect);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('disconnect', onDisconnect);
    },
  };
}

/** The run: device, inputs planned, then trained and published. Returns the exit code. */
async function train(args: TrainArgs, bus: Bus, signal: AbortSignal, say: Say): Promise<number> {
  await checkDevice(args.ep);
  const { run } = await planInputs({
    recipe: await readRecipe(args.recipe, bus.blobs),
    dataset: parseLocation(args.dataset),
    baseModel: args.baseModel,
    blobs: bus.blobs,
    cacheDir: process.env.EMOVERSE_TRAINER_CACHE ?? join(tmpdir(), 'emoverse-trainer-cache'),
  });
  const { plan } = run;
  say(
    `run ${args.runId}: recipe ${plan.recipe.name}, ${plan.totalSteps} optimizer steps (${plan.pretrainingSteps} LM pre-training), EP ${args.ep}`,
  );
  const { runId, ep, checkpointEvery, vocabSize, modelId, stopAfterStep } = args;
  const job = { runId, run, ep, checkpointEvery, vocabSize, modelId };
  const outcome = await runTraining(job, bus, { signal, log: say, stopAfterStep });
  if (!outcome.completed) {
    say('stopped before the end; start again with the same run id to resume');
    return STOPPED_EXIT_CODE;
  }
  say('done');
  return 0;
}

/** A run that failed: said on stderr and recorded in its job state. Returns the exit code. */
async function failed(bus: Bus, runId: string, err: Error): Promise<number> {
  const rejected = err instanceof RunRejected || err instanceof DeviceUnavailable;
  process.stderr.write(`train: ${rejected ? 'rejected: ' : ''}${err.message}\n`);
  if (!rejected && process.env.EMOVERSE_LOG_LEVEL === 'debug') process.stderr.write(`${err.stack}\n`);
  const code = rejected ? 'INVALID_RECIPE' : 'TRAINING_FAILED';
  const error = { code, message: err.message, service: 'trainer', retryable: !rejected };
  const jobs = await bus.jobs();
  await jobs.patch(runId, { kind: 'training', status: JobStatus.FAILED, error }).catch(() => undefined);
  return rejected ? badInputExitCode : 1;
}

/** Runs the command; returns the exit code. */
export async function trainCommand(argv: string[]): Promise<number> {
  // a child whose service died has no reader on its pipes: losing log lines must not kill the run
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  const say: Say = (line) => process.stdout.write(`[trainer ${new Date().toISOString()}] ${line}\n`);
  let args: TrainArgs;
  let bus: Bus;
  try {
    args = parseTrainArgs(argv);
  } catch (err) {
    process.stderr.write(`train: ${(err as Error).message}\n`);
    return badInputExitCode;
  }
  try {
    bus = await connect();
  } catch (err) {
    process.stderr.write(`train: ${(err as Error).message}\n`);
    return 1;
  }
  const stop = stopOnSignals(say);
  try {
    return await train(args, bus, stop.signal, say);
  } catch (err) {
    return await failed(bus, args.runId, err as Error);
  } finally {
    stop.dispose();
    await bus.drain().catch(() => undefined);
  }
}
