// The task sampler and the epoch-aware data iterator.
//
// Data order is a pure function of (seed, recipe, example counts, position), nothing is replayed:
//  - each task's examples form an endless stream: pass p is a seeded permutation of the task's list
//    (key "task <T> pass <p>"); a stage takes its quota from the stream after what earlier stages took;
//  - a stage's data set is the union of those takes; epoch e visits it in a seeded order
//    (key "stage <s> epoch <e>"), so tasks are mixed at their sampling rates within every batch window;
//  - the iterator's state is just (stage, epoch, micro-batch) plus a fingerprint of what it was
//    computed from, so resume after a crash yields the very same batches.
import type { Recipe } from './recipe.js';
import { hashSeed, permutation } from './rng.js';
import { planStages, type StagePlan, type TaskCounts } from './stage-plan.js';
import type { TaskName } from './tasks.js';

export interface SampleRef {
  task: TaskName;
  /** Index into the task's example list. */
  index: number;
}

export class TaskSampler {
  readonly plans: StagePlan[];
  /** Identifies (seed, counts, plan): a saved iterator state only resumes against the same one. */
  readonly fingerprint: string;
  private readonly passCache = new Map<string, Uint32Array>();
  private readonly datasetCache = new Map<number, SampleRef[]>();
  private orderCache: { key: string; order: SampleRef[] } | undefined;

  constructor(
    readonly recipe: Recipe,
    readonly counts: TaskCounts,
  ) {
    this.plans = planStages(recipe, counts);
    const basis = JSON.stringify({
      seed: recipe.seed,
      counts: Object.entries(counts).sort(),
      plans: this.plans.map((p) => [p.quotas, p.offsets, p.epochs]),
      batch: recipe.batch,
    });
    this.fingerprint = hashSeed(recipe.seed, basis).toString(16).padStart(8, '0');
  }

  /** The example index at `position` of the task's endless stream (pass = position / count). */
  taskIndex(task: TaskName, position: number): number {
    const n = this.counts[task] ?? 0;
    if (n <= 0) throw new RangeError(`task ${task} has no examples`);
    const pass = Math.floor(position / n);
    const key = `task ${task} pass ${pass}`;
    let perm = this.passCache.get(key);
    if (!perm) {
      perm = permutation(n, this.recipe.seed, key);
      this.passCache.set(key, perm);
    }
    return perm[position - pass * n];
  }

  /** The stage's sampled data set: each task's quota, taken in canonical task order (unshuffled). */
  stageDataset(stage: number): SampleRef[] {
    const cached = this.datasetCache.get(stage);
    if (cached) return cached;
    const plan = this.plan(stage);
    const out: SampleRef[] = [];
    for (const task of plan.tasks) {
      const from = plan.offsets[task] ?? 0;
      const quota = plan.quotas[task] ?? 0;
      for (let i = 0; i < quota; i++) out.push({ task, index: this.taskIndex(task, from + i) });
    }
    this.datasetCache.set(stage, out);
    return out;
  }

  /** The order in which epoch `epoch` of stage `stage` visits the stage's data set. */
  epochOrder(stage: number, epoch: number): SampleRef[] {
    const key = `stage ${stage} epoch ${epoch}`;
    if (this.orderCache?.key === key) return this.orderCache.order;
    const dataset = this.stageDataset(stage);
    const perm = permutation(dataset.length, this.recipe.seed, key);
    const shuffled = Array.from(perm, (i) => dataset[i]);
    const order = this.recipe.batch.groupBy === 'task' ? this.taskBatches(shuffled, key) : shuffled;
    this.orderCache = { key, order };
    return order;
  }

  /**
   * batch.groupBy 'task': the shuffled order regrouped so that every micro-batch holds one task
   * (each task's examples in their shuffled order, cut into micro-batch-sized chunks, the full
   * chunks in a seeded order, the tasks' partial last chunks at the end). Tasks of very different
   * lengths (ECPE conversations, one-line ER queries) then no longer pad each other; the stage
   * still visits the same examples at the same rates.
   */
  private taskBatches(shuffled: readonly SampleRef[], key: string): SampleRef[] {
    const size = this.recipe.batch.size;
    const byTask = new Map<TaskName, SampleRef[]>();
    for (const r of shuffled) {
      const list = byTask.get(r.task) ?? [];
      list.push(r);
      byTask.set(r.task, list);
    }
    const full: SampleRef[][] = [];
    const rest: SampleRef[] = [];
    for (const list of byTask.values()) {
      for (let i = 0; i < list.length; i += size) {
        const chunk = list.slice(i, i + size);
        if (chunk.length === size) full.push(chunk);
        else rest.push(...chunk);
      }
    }
    const chunkOrder = permutation(full.length, this.recipe.seed, `${key} task batches`);
    return [...Array.from(chunkOrder, (i) => full[i]).flat(), ...rest];
  }

  plan(stage: number): StagePlan {
    const plan = this.plans[stage];
    if (!plan) throw new RangeError(`stage ${stage} does not exist (recipe has ${this.plans.length})`);
    return plan;
  }

  /** Optimizer steps of the whole recipe. */
  get totalSteps(): number {
    const last = this.plans[this.plans.length - 1];
    return last.firstGlobalStep + last.totalSteps;
  }
}

/** Where the iterator is: the position of the next micro-batch. Plain JSON. */
export interface IteratorState {
  stage: number;
  epoch: number;
  microBatch: number;
  fingerprint: string;
}

export interface MicroBatch<T> {
  stage: number;
  stageName: string;
  epoch: number;
  /** Micro-batch index within the epoch. */
  microBatch: number;
  /** Optimizer step within the stage (the lr schedule's step). */
  step: number;
  /** Optimizer step across all stages. */
  globalStep: number;
  /** 0-based index of this micro-batch within its gradient-accumulation group. */
  accumulationIndex: number;
  /** Micro-batches in this accumulation group (the last group of an epoch may be shorter). */
  accumulationSize: number;
  /** True when this micro-batch completes an optimizer step. */
  endsStep: boolean;
  items: (SampleRef & { example: T })[];
}

/** Random access to a task's examples (an array, or e.g. line offsets into JSONL shards). */
export interface ExampleSource<T> {
  readonly length: number;
  at(index: number): T | undefined;
}

export class DataIterator<T> implements Iterable<MicroBatch<T>> {
  readonly sampler: TaskSampler;
  private pos: { stage: number; epoch: number; microBatch: number };

  constructor(
    readonly recipe: Recipe,
    private readonly examples: Partial<Record<TaskName, ExampleSource<T>>>,
    state?: IteratorState,
  ) {
    const counts: TaskCounts = {};
    for (const [task, src] of Object.entries(examples) as [TaskName, ExampleSource<T>][])
      counts[task] = src.length;
    this.sampler = new TaskSampler(recipe, counts);
    if (state) {
      if (state.fingerprint !== this.sampler.fingerprint) {
        throw new Error(
          `cannot resume: the saved data order (${state.fingerprint}) was computed from another recipe or ` +
            `other shards than this one (${this.sampler.fingerprint})`,
        );
      }
      this.pos = { stage: state.stage, epoch: state.epoch, microBatch: state.microBatch };
    } else this.pos = { stage: 0, epoch: 0, microBatch: 0 };
  }

  get state(): IteratorState {
    return { ...this.pos, fingerprint: this.sampler.fingerprint };
  }

  get done(): boolean {
    return this.pos.stage >= this.sampler.plans.length;
  }

  next(): MicroBatch<T> | undefined {
    if (this.done) return undefined;
    const { stage, epoch, microBatch } = this.pos;
    const plan = this.sampler.plan(stage);
    const { size, gradAccumulation } = this.recipe.batch;
    const order = this.sampler.epochOrder(stage, epoch);
    const refs = order.slice(microBatch * size, (microBatch + 1) * size);
    const groupStart = microBatch - (microBatch % gradAccumulation);
    const accumulationSize = Math.min(gradAccumulation, plan.microBatchesPerEpoch - groupStart);
    const accumulationIndex = microBatch - groupStart;
    const step = epoch * plan.optimizerStepsPerEpoch + Math.floor(microBatch / gradAccumulation);
    const batch: MicroBatch<T> = {
      stage,
      stageName: plan.name,
      epoch,
      microBatch,
      step,
      globalStep: plan.firstGlobalStep + step,
      accumulationIndex,
      accumulationSize,
      endsStep: accumulationIndex === accumulationSize - 1,
      items: refs.map((r) => {
        const example = this.examples[r.task]?.at(r.index);
        if (example === undefined) throw new RangeError(`task ${r.task} has no example ${r.index}`);
        return { ...r, example };
      }),
    };
    // advance
    if (microBatch + 1 < plan.microBatchesPerEpoch) this.pos = { stage, epoch, microBatch: microBatch + 1 };
    else if (epoch + 1 < plan.epochs) this.pos = { stage, epoch: epoch + 1, microBatch: 0 };
    else this.pos = { stage: stage + 1, epoch: 0, microBatch: 0 };
    return batch;
  }

  *[Symbol.iterator](): Iterator<MicroBatch<T>> {
    for (let b = this.next(); b; b = this.next()) yield b;
  }
}
