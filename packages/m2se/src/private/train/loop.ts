// The M2SE training loop: the recipe's stages in order, micro-batches from the seeded task sampler,
// per-example loss scales from the dynamic task weights, gradient accumulation, the warm-up + cosine
// lr of each stage, and checkpoints that hold everything needed to continue exactly: the engine's
// parameters and optimizer state, the data position, the loss-weighting state and the loss log.
// After a crash, train() with the same store picks up at the last checkpoint; the data order and the
// loss curve are then those of an uninterrupted run.
import {
  createLossWeighting,
  type LossWeighting,
  type LossWeightingState,
  type TaskWeights,
} from '../loss-weighting.js';
import { learningRate, stageLrSchedule } from '../lr-schedule.js';
import type { Recipe } from '../recipe.js';
import { hashSeed } from '../rng.js';
import { DataIterator, type IteratorState } from '../sampler.js';
import type { TaskName } from '../tasks.js';
import { type CheckpointStore, decodeTensors, encodeTensors } from './checkpoint-store.js';
import { collate, type EncodedExample } from './encode.js';
import type { TrainEngine } from './engine.js';
import type { EmtExample } from './examples.js';

/** One optimizer step, as logged and published (NATS progress events carry the same fields). */
export interface StepLog {
  stage: number;
  stageName: string;
  epoch: number;
  /** Step within the stage (the lr schedule's step) and across the run. */
  step: number;
  globalStep: number;
  totalSteps: number;
  lr: number;
  /** Unweighted mean loss per task over the step's examples. */
  losses: TaskWeights;
  /** Loss weights used in this step. */
  weights: TaskWeights;
  /** sum_k w_k L_k / K over the tasks in the step. */
  loss: number;
  examples: number;
  tokens: number;
}

export interface StepProgress extends StepLog {
  /** Training tokens per second over this step (wall clock; not part of the saved log). */
  tokensPerSecond: number;
}

export interface TrainOptions {
  recipe: Recipe;
  examples: Partial<Record<TaskName, readonly EmtExample[]>>;
  engine: TrainEngine;
  /** Tokenizes an example (encodeExample with the model's tokenizer); called once per example. */
  encode: (example: EmtExample) => EncodedExample;
  padId: number;
  store?: CheckpointStore;
  /** Write a checkpoint every this many optimizer steps (and at stage ends and at the end). */
  checkpointEvery?: number;
  onStep?: (progress: StepProgress) => void | Promise<void>;
  onCheckpoint?: (step: number) => void | Promise<void>;
  /** Stop (with a checkpoint) once this many optimizer steps of the run are done. */
  stopAfterStep?: number;
  /** Stop (with a checkpoint) at the next step boundary. */
  signal?: AbortSignal;
  now?: () => number;
}

export interface TrainResult {
  /** Optimizer steps completed (of the whole run, resumed ones included). */
  steps: number;
  totalSteps: number;
  completed: boolean;
  /** Steps skipped because a checkpoint already covered them. */
  resumedFrom: number;
  /** The loss log of the whole run (restored from the checkpoint, then extended). */
  history: StepLog[];
}

interface LoopState {
  format: 'emoverse-m2se-trainer/1';
  recipe: string;
  steps: number;
  iterator: IteratorState;
  weighting: { stage: number; state: LossWeightingState } | null;
  history: StepLog[];
  /** Hash of how the first examples of each task encode: another tokenizer or prompt format must not resume. */
  encoding?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function asSource<T>(list: readonly T[]) {
  return { length: list.length, at: (i: number) => list[i] };
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { recipe, engine, store } = options;
  const now = options.now ?? (() => performance.now());
  const sources: Partial<Record<TaskName, ReturnType<typeof asSource<EmtExample>>>> = {};
  for (const [t, list] of Object.entries(options.examples) as [TaskName, readonly EmtExample[]][])
    sources[t] = asSource(list);

  // resume
  let state: LoopState | undefined;
  const saved = store ? await store.latest() : undefined;
  if (saved) {
    const loop = JSON.parse(dec.decode(saved.files['trainer.json'])) as LoopState;
    if (loop.format !== 'emoverse-m2se-trainer/1')
      throw new Error('checkpoint: not an M2SE trainer checkpoint');
    if (loop.recipe !== recipe.name) {
      throw new Error(`checkpoint is of recipe "${loop.recipe}", not "${recipe.name}"`);
    }
    state = loop;
    await engine.loadState(decodeTensors(saved.files['tensors.json'], saved.files['tensors.bin']));
  }
  const iterator = new DataIterator<EmtExample>(recipe, sources, state?.iterator);
  const plans = iterator.sampler.plans;
  const totalSteps = iterator.sampler.totalSteps;
  const history: StepLog[] = state ? [...state.history] : [];
  let steps = state?.steps ?? 0;
  const resumedFrom = steps;
  let weighting: { stage: number; w: LossWeighting } | undefined = state?.weighting
    ? {
        stage: state.weighting.stage,
        w: createLossWeighting(
          recipe.lossWeighting,
          plans[state.weighting.stage].tasks,
          state.weighting.state,
        ),
      }
    : undefined;

  if (steps < totalSteps && options.stopAfterStep !== undefined && steps >= options.stopAfterStep) {
    return { steps, totalSteps, completed: false, resumedFrom, history };
  }

  const encoded = new Map<string, EncodedExample>();
  const encode = (task: TaskName, index: number, ex: EmtExample) => {
    const key = `${task}#${index}`;
    let e = encoded.get(key);
    if (!e) {
      e = options.encode(ex);
      encoded.set(key, e);
    }
    return e;
  };
  const probe = (Object.keys(sources) as TaskName[])
    .sort()
    .map((t) => [t, options.examples[t]?.slice(0, 4).map((ex, i) => encode(t, i, ex).inputIds)]);
  const encoding = hashSeed(recipe.seed, JSON.stringify(probe)).toString(16);
  if (state?.encoding !== undefined && state.encoding !== encoding) {
    throw new Error(
      'cannot resume: the examples encode differently than when the checkpoint was written (another tokenizer or prompt format)',
    );
  }

  const checkpoint = async () => {
    if (!store) return;
    const tensors = encodeTensors(await engine.saveState());
    const loop: LoopState = {
      format: 'emoverse-m2se-trainer/1',
      recipe: recipe.name,
      steps,
      iterator: iterator.state,
      weighting: weighting ? { stage: weighting.stage, state: weighting.w.state() } : null,
      history,
      encoding,
    };
    await store.save({
      step: steps,
      files: {
        'trainer.json': enc.encode(JSON.stringify(loop)),
        'tensors.json': tensors.index,
        'tensors.bin': tensors.data,
      },
    });
    await options.onCheckpoint?.(steps);
  };

  // per optimizer step accumulators
  let lossSum: Partial<Record<TaskName, number>> = {};
  let lossCount: Partial<Record<TaskName, number>> = {};
  let tokens = 0;
  let examples = 0;
  let started = now();

  for (let batch = iterator.next(); batch; batch = iterator.next()) {
    const plan = plans[batch.stage];
    if (!weighting || weighting.stage !== batch.stage) {
      weighting = { stage: batch.stage, w: createLossWeighting(recipe.lossWeighting, plan.tasks) };
    }
    const weights = weighting.w.weights();
    const items = batch.items;
    // w_task / (examples x micro-batches of the group): with all weights 1 the step's loss is the mean
    const scale = 1 / (items.length * batch.accumulationSize);
    const collated = collate(
      items.map((it) => encode(it.task, it.index, it.example)),
      items.map((it) => (weights[it.task] ?? 1) * scale),
      options.padId,
    );
    const lr = learningRate(batch.step, stageLrSchedule(recipe, plan));
    const exampleLoss = await engine.microStep({
      ...collated,
      tasks: items.map((it) => it.task),
      examples: items.map((it) => it.example),
      seed: hashSeed(recipe.seed, `dropout ${batch.globalStep} ${batch.microBatch}`),
      lr,
      accumulationIndex: batch.accumulationIndex,
      accumulationSize: batch.accumulationSize,
      gradAccumulation: recipe.batch.gradAccumulation,
      endsStep: batch.endsStep,
    });
    items.forEach((it, i) => {
      lossSum[it.task] = (lossSum[it.task] ?? 0) + exampleLoss[i];
      lossCount[it.task] = (lossCount[it.task] ?? 0) + 1;
    });
    tokens += collated.tokens;
    examples += items.length;
    if (!batch.endsStep) continue;

    const losses: TaskWeights = {};
    for (const t of plan.tasks) {
      const n = lossCount[t] ?? 0;
      if (n === 0) continue;
      losses[t] = (lossSum[t] as number) / n;
      weighting.w.observe(t, losses[t] as number, n);
    }
    weighting.w.endStep();
    const present = Object.keys(losses) as TaskName[];
    const log: StepLog = {
      stage: batch.stage,
      stageName: batch.stageName,
      epoch: batch.epoch,
      step: batch.step,
      globalStep: batch.globalStep,
      totalSteps,
      lr,
      losses,
      weights,
      loss:
        present.reduce((s, t) => s + (weights[t] ?? 1) * (losses[t] as number), 0) /
        Math.max(1, present.length),
      examples,
      tokens,
    };
    history.push(log);
    steps = batch.globalStep + 1;
    const seconds = Math.max(1e-9, (now() - started) / 1000);
    await options.onStep?.({ ...log, tokensPerSecond: tokens / seconds });
    lossSum = {};
    lossCount = {};
    tokens = 0;
    examples = 0;

    const stageEnds = batch.step === plan.totalSteps - 1;
    const stop =
      (options.stopAfterStep !== undefined && steps >= options.stopAfterStep) ||
      options.signal?.aborted === true;
    const every = options.checkpointEvery;
    if (stageEnds || stop || (every !== undefined && steps % every === 0)) await checkpoint();
    if (stop && steps < totalSteps) return { steps, totalSteps, completed: false, resumedFrom, history };
    started = now();
  }
  return { steps, totalSteps, completed: true, resumedFrom, history };
}

/**
 * The loss log as plot data: one point per (step, task) and the steps where stages start, in the
 * shapes packages/plots' lossCurvesPng takes.
 */
export function lossCurveData(history: readonly StepLog[]): {
  points: { step: number; task: string; loss: number }[];
  stageBoundaries: { step: number; label: string }[];
} {
  const points = history.flatMap((s) =>
    Object.entries(s.losses).map(([task, loss]) => ({ step: s.globalStep, task, loss: loss as number })),
  );
  const stageBoundaries: { step: number; label: string }[] = [];
  history.forEach((s, i) => {
    if (i > 0 && s.stage !== history[i - 1].stage)
      stageBoundaries.push({ step: s.globalStep, label: `stage ${s.stage + 1}: ${s.stageName}` });
  });
  return { points, stageBoundaries };
}
