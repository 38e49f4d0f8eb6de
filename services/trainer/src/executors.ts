// Where a run's compute happens. Local: a child process running `main.js train` on this node (its own
// event loop and ONNX Runtime threads; the service's gRPC loop stays free). Kubernetes: the same
// command as a Job on GPU nodes (packages/k8s buildTrainingJob + JobSubmitter), watched to its end.
// Both workers report progress on NATS themselves; the executor reports only the process / Job state.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  badInputExitCode,
  buildTrainingJob,
  type JobPhase,
  type JobStateChange,
  type TrainingJobConfig,
  type WatchOptions,
} from '@emoverse/k8s';
import type { ExecutionProvider } from '@emoverse/trainer-core';
import { STOPPED_EXIT_CODE } from './train-command.js';

type V1Job = ReturnType<typeof buildTrainingJob>;

export interface RunSpec {
  runId: string;
  /** `os://...` recipe the worker reads. */
  recipe: string;
  /** Dataset location as the worker resolves it (folder or os://). */
  dataset: string;
  baseModel?: string;
  ep: ExecutionProvider;
  modelId?: string;
  checkpointEvery?: number;
  vocabSize?: number;
}

export type ExecutionEnd =
  | { outcome: 'succeeded' }
  | { outcome: 'rejected' | 'failed' | 'stopped' | 'cancelled'; message: string };

export interface ExecutionHandle {
  /** "local" (pid) or the Job name. */
  name: string;
  done: Promise<ExecutionEnd>;
  cancel(): Promise<void>;
}

export interface Executor {
  readonly kind: 'local' | 'kubernetes';
  /** onRestart: a crashed worker was started again (it resumes); `name` is the new one. */
  start(
    spec: RunSpec,
    onRunning: () => void,
    onRestart?: (name: string, reason: string) => void,
  ): Promise<ExecutionHandle>;
}

/** The worker's arguments after `train`. */
export function trainArgs(spec: RunSpec): string[] {
  const args = ['--run-id', spec.runId, '--recipe', spec.recipe, '--dataset', spec.dataset, '--ep', spec.ep];
  if (spec.baseModel) args.push('--base-model', spec.baseModel);
  if (spec.modelId) args.push('--model-id', spec.modelId);
  if (spec.checkpointEvery) args.push('--checkpoint-every', String(spec.checkpointEvery));
  if (spec.vocabSize) args.push('--vocab-size', String(spec.vocabSize));
  return args;
}

/** This package's main (src/main.ts under tsx, dist/main.js when built) and the node flags it needs. */
function mainEntry(): { main: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  return {
    main: fileURLToPath(new URL(fromSource ? './main.ts' : './main.js', import.meta.url)),
    execArgv: fromSource ? ['--import', 'tsx', '--conditions=source'] : [],
  };
}

export class LocalExecutor implements Executor {
  readonly kind = 'local' as const;

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly log: (runId: string, line: string) => void = () => {},
    /**
     * Times a worker that crashed (killed by a signal, or exit code 1) is started again; it resumes
     * from its last checkpoint, like a Job's pod retried under its backoffLimit.
     */
    private readonly maxRestarts = 2,
  ) {}

  async start(
    spec: RunSpec,
    onRunning: () => void,
    onRestart: (name: string, reason: string) => void = () => {},
  ): Promise<ExecutionHandle> {
    const { main, execArgv } = mainEntry();
    let cancelled = false;
    let child: ChildProcess;
    let restarts = 0;
    const handle = { name: '' };

    /** One worker process; resolves with its end (restarts are decided by the caller). */
    const launch = () =>
      new Promise<ExecutionEnd & { crashed: boolean }>((resolve) => {
        child = spawn(process.execPath, [...execArgv, main, 'train', ...trainArgs(spec)], {
          env: { ...process.env, ...this.env, EMOVERSE_RUN_ID: spec.runId },
          // the IPC channel lets the child notice when this process dies (it stops with a checkpoint)
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        });
        handle.name = `local:${child.pid}`;
        let stderr = '';
        child.stdout?.on('data', (b: Buffer) => {
          for (const line of b.toString().split('\n')) if (line.trim()) this.log(spec.runId, line);
        });
        child.stderr?.on('data', (b: Buffer) => {
          stderr = (stderr + b.toString()).slice(-4000);
          for (const line of b.toString().split('\n')) if (line.trim()) this.log(spec.runId, line);
        });
        child.once('spawn', onRunning);
        child.once('error', (err) => resolve({ outcome: 'failed', message: err.message, crashed: false }));
        child.once('exit', (code, signal) => {
          const message = lastLines(stderr) || `exit ${code ?? signal}`;
          if (cancelled) resolve({ outcome: 'cancelled', message: 'cancelled', crashed: false });
          else if (code === 0) resolve({ outcome: 'succeeded', crashed: false });
          else if (code === badInputExitCode) resolve({ outcome: 'rejected', message, crashed: false });
          else if (code === STOPPED_EXIT_CODE) resolve({ outcome: 'stopped', message, crashed: false });
          else resolve({ outcome: 'failed', message, crashed: true });
        });
      });

    const done = (async (): Promise<ExecutionEnd> => {
      let next = launch();
      for (;;) {
        const { crashed, ...end } = await next;
        if (!crashed || cancelled || restarts >= this.maxRestarts) return end as ExecutionEnd;
        restarts++;
        const reason = 'message' in end ? end.message : '';
        this.log(spec.runId, `worker crashed (${reason}); restart ${restarts} of ${this.maxRestarts}`);
        await new Promise((r) => setTimeout(r, 500));
        if (cancelled) return { outcome: 'cancelled', message: 'cancelled' };
        const previous = handle.name;
        next = launch();
        onRestart(handle.name, `${previous} crashed: ${reason}`);
      }
    })();
    // (the first worker was spawned synchronously, inside done's first statement)
    return {
      get name() {
        return handle.name;
      },
      done,
      async cancel() {
        cancelled = true;
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          // it checkpoints at the next step boundary; do not wait forever on a stuck step
          const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          await done;
          clearTimeout(timer);
        }
      },
    };
  }
}

function lastLines(text: string, n = 5): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

/** What KubernetesExecutor needs of packages/k8s' JobSubmitter. */
export interface JobRunner {
  run(job: V1Job, onChange: (c: JobStateChange) => void, options?: WatchOptions): Promise<JobStateChange>;
  cancel(name: string): Promise<void>;
}

export class KubernetesExecutor implements Executor {
  readonly kind = 'kubernetes' as const;

  constructor(
    private readonly jobs: JobRunner,
    private readonly config: TrainingJobConfig,
  ) {}

  /** The Job for a run: the config's command (`node .../main.js train`) with the run's arguments. */
  job(spec: RunSpec): V1Job {
    // buildTrainingJob puts --run-id and --recipe first; the rest of the worker's arguments follow
    const rest = trainArgs(spec).slice(4);
    return buildTrainingJob(
      { runId: spec.runId, recipe: spec.recipe, args: rest, executionProvider: spec.ep },
      this.config,
    );
  }

  async start(spec: RunSpec, onRunning: () => void): Promise<ExecutionHandle> {
    const job = this.job(spec);
    const name = job.metadata?.name as string;
    const controller = new AbortController();
    let cancelled = false;
    const done = this.jobs
      .run(
        job,
        (c) => {
          if (c.phase === 'Running') onRunning();
        },
        { signal: controller.signal },
      )
      .then(
        (last): ExecutionEnd => endOf(last.phase, cancelled, last.reason, last.message),
        (err: Error): ExecutionEnd =>
          cancelled
            ? { outcome: 'cancelled', message: 'cancelled' }
            : { outcome: 'failed', message: err.message },
      );
    const jobs = this.jobs;
    return {
      name,
      done,
      async cancel() {
        cancelled = true;
        // deleting the Job stops its pod (SIGTERM: the worker checkpoints); the watch then ends
        await jobs.cancel(name);
        controller.abort();
        await done;
      },
    };
  }
}

function endOf(phase: JobPhase, cancelled: boolean, reason?: string, message?: string): ExecutionEnd {
  if (phase === 'Succeeded') return { outcome: 'succeeded' };
  if (cancelled || phase === 'Deleted') return { outcome: 'cancelled', message: 'the Job was deleted' };
  // podFailurePolicy FailJob on exit code 2: the worker rejected the run
  if (reason === 'PodFailurePolicy') return { outcome: 'rejected', message: message ?? 'input rejected' };
  return { outcome: 'failed', message: `${reason ?? 'Failed'}: ${message ?? ''}`.trim() };
}
