// The service's runs: StartRun plans and validates (nothing is computed for a rejected run), stores
// the recipe text in the object store, records the run in the job-state KV and hands it to the
// executor; progress and model.published events from the workers (local or Kubernetes) update the
// Run that GetRun returns and WatchRun streams. Runs left unfinished by a previous service process
// are picked up again at start (their workers resume from the last checkpoint).
import { randomUUID } from 'node:crypto';
import { clone, create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { type Bus, blobBuckets, events, type JobStore, type Subscription } from '@emoverse/bus';
import {
  ErrorInfoSchema,
  type JobState,
  JobStatus,
  type ModelPublished,
  RecipeFormat,
  type Run,
  RunSchema,
  type StartRunRequest,
  type TrainingProgress,
  type WatchRunResponse,
  WatchRunResponseSchema,
} from '@emoverse/proto';
import { EP_NAMES, isEpName } from '@emoverse/runtime';
import { PushQueue } from '@emoverse/service-kit';
import { checkDevice, type ExecutionProvider, type RunPlan, RunRejected } from '@emoverse/trainer-core';
import { formatLocation, type Location } from './dataset.js';
import type { ExecutionHandle, Executor, RunSpec } from './executors.js';
import { guessFormat, type RecipeText } from './recipe-source.js';
import { planInputs } from './run-inputs.js';
import { runBlobs } from './run-report.js';

export class RunNotFound extends Error {}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const TERMINAL = new Set([JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED]);

export interface RunManagerOptions {
  bus: Bus;
  executor: Executor;
  /** EP when the request names none (EMOVERSE_EP). */
  defaultEp: ExecutionProvider;
  /** Where object-store datasets are fetched to for validation. */
  cacheDir: string;
  checkpointEvery?: number;
  vocabSize?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

type Listener = (u: WatchRunResponse) => void;

interface Entry {
  run: Run;
  spec: RunSpec;
  handle?: ExecutionHandle;
  listeners: Set<Listener>;
}

export function isTerminal(run: Run): boolean {
  return TERMINAL.has(run.status);
}

export class RunManager {
  private readonly runs = new Map<string, Entry>();
  private subscriptions: Subscription[] = [];
  private jobs!: JobStore;

  constructor(private readonly o: RunManagerOptions) {}

  async start(): Promise<void> {
    this.jobs = await this.o.bus.jobs();
    this.subscriptions.push(
      await this.o.bus.subscribe(events.trainingProgress, (p) => this.onProgress(p)),
      await this.o.bus.subscribe(events.modelPublished, (p) => this.onPublished(p)),
    );
    await this.resumeUnfinished();
  }

  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.stop()));
  }

  /** Validates, records and launches a run; an existing run id returns that run (idempotent). */
  async startRun(req: StartRunRequest): Promise<Run> {
    const runId = runIdOf(req);
    const existing = await this.find(runId);
    if (existing) return existing;
    const { ep, dataset, recipe } = checkRequest(req, this.o.defaultEp);
    // a local run computes on this node: its EP must open here (a Job's node is checked by the Job)
    if (this.o.executor.kind === 'local') await checkDevice(ep);
    // everything is checked here, before a byte of training
    const { run, datasetDir } = await planInputs({
      recipe,
      dataset,
      baseModel: req.baseModel,
      blobs: this.o.bus.blobs,
      cacheDir: this.o.cacheDir,
    });
    const recipeRef = await this.o.bus.blobs.put(
      blobBuckets.checkpoints,
      runBlobs(runId).recipe(recipe.format),
      new TextEncoder().encode(recipe.text),
      recipe.format === 'json' ? 'application/json' : 'application/yaml',
    );
    const spec: RunSpec = {
      runId,
      recipe: `os://${recipeRef.bucket}/${recipeRef.name}`,
      // a local worker reads the folder validated here; a Job resolves the location on its node
      dataset: this.o.executor.kind === 'local' ? datasetDir : formatLocation(dataset),
      baseModel: req.baseModel || undefined,
      ep,
      modelId: req.labels.model_id,
      checkpointEvery: this.o.checkpointEvery,
      vocabSize: this.o.vocabSize,
    };
    return this.record(spec, run.plan, req.labels);
  }

  /** Records an accepted run (memory and job state) and launches it. */
  private async record(spec: RunSpec, plan: RunPlan, labels: Record<string, string>): Promise<Run> {
    const executor = this.o.executor.kind;
    const run = create(RunSchema, {
      runId: spec.runId,
      status: JobStatus.PENDING,
      totalSteps: plan.totalSteps,
      createdAt: timestampNow(),
      updatedAt: timestampNow(),
      executor,
    });
    const entry: Entry = { run, spec, listeners: new Set() };
    this.runs.set(spec.runId, entry);
    await this.jobs.put({
      jobId: spec.runId,
      kind: 'training',
      status: JobStatus.PENDING,
      stage: '',
      progress: 0,
      attributes: jobAttributes(spec, plan, labels, executor),
    });
    this.o.log?.('run accepted', {
      runId: spec.runId,
      recipe: plan.recipe.name,
      steps: plan.totalSteps,
      ep: spec.ep,
    });
    await this.launch(entry);
    return run;
  }

  private async launch(entry: Entry): Promise<void> {
    const { runId } = entry.run;
    const handle = await this.o.executor.start(
      entry.spec,
      () => {
        if (entry.run.status === JobStatus.PENDING) this.update(entry, { status: JobStatus.RUNNING });
      },
      (name, reason) => {
        this.o.log?.('worker restarted', { runId, name, reason });
        this.update(entry, { executor: name });
      },
    );
    entry.handle = handle;
    this.update(entry, { executor: handle.name });
    void handle.done.then(async (end) => {
      if (end.outcome === 'succeeded') {
        // the worker published the model before exiting; the event may still be on its way
        for (let i = 0; i < 100 && !entry.run.model; i++) await new Promise((r) => setTimeout(r, 50));
        if (!entry.run.model) {
          const state = await this.jobs.get(runId).catch(() => undefined);
          if (state?.status !== JobStatus.SUCCEEDED) {
            this.finish(entry, JobStatus.FAILED, 'TRAINING_FAILED', 'the worker exited without publishing');
            return;
          }
        }
        this.finish(entry, JobStatus.SUCCEEDED);
      } else if (end.outcome === 'cancelled')
        this.finish(entry, JobStatus.CANCELLED, 'CANCELLED', end.message);
      else if (end.outcome === 'rejected')
        this.finish(entry, JobStatus.FAILED, 'INVALID_RECIPE', end.message);
      else
        this.finish(
          entry,
          JobStatus.FAILED,
          end.outcome === 'stopped' ? 'STOPPED' : 'TRAINING_FAILED',
          end.message,
        );
    });
  }

  private finish(entry: Entry, status: JobStatus, code?: string, message?: string): void {
    if (isTerminal(entry.run)) return;
    this.update(entry, {
      status,
      error: code
        ? create(ErrorInfoSchema, {
            code,
            message: message ?? '',
            service: 'trainer',
            retryable: code !== 'INVALID_RECIPE',
          })
        : undefined,
    });
    void this.jobs
      .patch(entry.run.runId, (cur) => ({
        kind: 'training',
        progress: status === JobStatus.SUCCEEDED ? 1 : (cur?.progress ?? 0),
        status,
        error: code ? { code, message: message ?? '', service: 'trainer' } : undefined,
      }))
      .catch((err: Error) => this.o.log?.('job state update failed', { err: err.message }));
  }

  private update(entry: Entry, fields: Partial<Omit<Run, '$typeName'>>): void {
    entry.run = Object.assign(clone(RunSchema, entry.run), fields, { updatedAt: timestampNow() });
    const u = create(WatchRunResponseSchema, { update: { case: 'run', value: entry.run } });
    for (const l of entry.listeners) l(u);
  }

  private onProgress(p: TrainingProgress): void {
    const entry = this.runs.get(p.runId);
    if (!entry || isTerminal(entry.run)) return;
    if (entry.run.lastProgress && p.step <= entry.run.lastProgress.step) return; // a replayed step
    entry.run = Object.assign(clone(RunSchema, entry.run), {
      status: JobStatus.RUNNING,
      stage: p.stage,
      step: p.step,
      totalSteps: p.totalSteps,
      lastProgress: p,
      updatedAt: timestampNow(),
    });
    const u = create(WatchRunResponseSchema, { update: { case: 'progress', value: p } });
    for (const l of entry.listeners) l(u);
  }

  private onPublished(p: ModelPublished): void {
    const entry = this.runs.get(p.runId);
    if (entry && !entry.run.model) this.update(entry, { model: p });
  }

  /** The run from memory, else rebuilt from its job state (runs of an earlier service process). */
  async find(runId: string): Promise<Run | undefined> {
    const entry = this.runs.get(runId);
    if (entry) return entry.run;
    if (!RUN_ID.test(runId)) return undefined;
    const state = await this.jobs.get(runId);
    return state?.kind === 'training' ? runFromState(state) : undefined;
  }

  async getRun(runId: string): Promise<Run> {
    const run = await this.find(runId);
    if (!run) throw new RunNotFound(`no run "${runId}"`);
    const entry = this.runs.get(runId);
    if (!entry) return run;
    // the worker records its latest checkpoint in the job state
    const state = await this.jobs.get(runId).catch(() => undefined);
    const checkpoints = state?.outputs.filter((b) => b.name.includes('/checkpoints/')) ?? [];
    return checkpoints.length ? Object.assign(clone(RunSchema, run), { checkpoints }) : run;
  }

  async cancelRun(runId: string): Promise<Run> {
    const entry = this.runs.get(runId);
    if (!entry) return this.getRun(runId);
    if (isTerminal(entry.run)) return entry.run;
    this.finish(entry, JobStatus.CANCELLED, 'CANCELLED', 'cancelled by CancelRun');
    await entry.handle?.cancel();
    return entry.run;
  }

  /** The run now, then each progress event and state change until it ends (or the call is cancelled). */
  async *watchRun(runId: string, signal: AbortSignal): AsyncGenerator<WatchRunResponse> {
    const run = await this.getRun(runId);
    yield create(WatchRunResponseSchema, { update: { case: 'run', value: run } });
    const entry = this.runs.get(runId);
    if (!entry || isTerminal(run)) return;
    const updates = new PushQueue<WatchRunResponse>();
    const listener: Listener = (u) => updates.push(u);
    entry.listeners.add(listener);
    try {
      for await (const u of updates.drain(signal)) {
        yield u;
        if (u.update.case === 'run' && isTerminal(u.update.value)) return;
      }
    } finally {
      entry.listeners.delete(listener);
    }
  }

  /** Relaunches the runs an earlier service process left pending or running (they resume). */
  private async resumeUnfinished(): Promise<void> {
    for (const key of await this.jobs.ids()) {
      const state = await this.jobs.get(key).catch(() => undefined);
      if (state?.kind !== 'training') continue;
      if (state.status !== JobStatus.PENDING && state.status !== JobStatus.RUNNING) continue;
      const a = state.attributes;
      if (a.executor !== this.o.executor.kind || !a.recipe || !a.dataset) continue;
      const spec: RunSpec = {
        runId: state.jobId,
        recipe: a.recipe,
        dataset: a.dataset,
        baseModel: a.base_model,
        ep: (a.ep as ExecutionProvider) ?? this.o.defaultEp,
        modelId: a.model_id,
        checkpointEvery: this.o.checkpointEvery,
        vocabSize: this.o.vocabSize,
      };
      const entry: Entry = { run: runFromState(state), spec, listeners: new Set() };
      this.runs.set(state.jobId, entry);
      this.o.log?.('resuming run', { runId: state.jobId });
      await this.launch(entry);
    }
  }
}

/** The request's run id, or a fresh one; throws RunRejected when it cannot be a run id. */
function runIdOf(req: StartRunRequest): string {
  const runId = req.runId || `run-${randomUUID().slice(0, 13)}`;
  if (!RUN_ID.test(runId)) {
    throw new RunRejected([
      `run_id "${runId}": use 1-63 letters, digits, - and _ (starting with a letter or digit)`,
    ]);
  }
  return runId;
}

/** The request's EP, dataset location and recipe text, or RunRejected naming what is missing or wrong. */
function checkRequest(
  req: StartRunRequest,
  defaultEp: ExecutionProvider,
): { ep: ExecutionProvider; dataset: Location; recipe: RecipeText } {
  if (!req.recipe.trim()) throw new RunRejected(['recipe: empty (give the recipe text, YAML or JSON)']);
  const ep = req.device || defaultEp;
  if (!isEpName(ep))
    throw new RunRejected([`device "${req.device}": expected one of ${EP_NAMES.join(', ')}`]);
  let dataset: Location;
  if (req.dataset.case === 'datasetPath') dataset = { kind: 'path', path: req.dataset.value };
  else if (req.dataset.case === 'datasetBlob') dataset = { kind: 'blob', ref: req.dataset.value };
  else throw new RunRejected(['dataset: give dataset_path (an EMT folder) or dataset_blob (a manifest)']);
  const format =
    req.format === RecipeFormat.JSON
      ? 'json'
      : req.format === RecipeFormat.YAML
        ? 'yaml'
        : guessFormat(req.recipe);
  return { ep, dataset, recipe: { text: req.recipe, format, source: 'recipe' } };
}

/** The job-state attributes of a run: what a restarted service needs to launch it again, and its labels. */
function jobAttributes(
  spec: RunSpec,
  plan: RunPlan,
  labels: Record<string, string>,
  executor: string,
): Record<string, string> {
  return {
    executor,
    recipe: spec.recipe,
    recipe_name: plan.recipe.name,
    dataset: spec.dataset,
    ep: spec.ep,
    total_steps: String(plan.totalSteps),
    ...(spec.baseModel ? { base_model: spec.baseModel } : {}),
    ...(spec.modelId ? { model_id: spec.modelId } : {}),
    ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [`label.${k}`, v])),
  };
}

/** A Run from its job-state record (what survives the service process). */
export function runFromState(s: JobState): Run {
  const total = Number(s.attributes.total_steps ?? 0);
  return create(RunSchema, {
    runId: s.jobId,
    status: s.status,
    stage: Number(/^stage(\d+)$/.exec(s.stage)?.[1] ?? 0),
    step: Math.round(s.progress * total),
    totalSteps: total,
    error: s.error,
    updatedAt: s.updatedAt,
    executor: s.attributes.executor ?? '',
    checkpoints: s.outputs.filter((b) => b.name.includes('/checkpoints/')),
  });
}
