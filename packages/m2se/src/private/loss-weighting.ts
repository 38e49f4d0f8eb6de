// Dynamic loss weights, chosen by the recipe's lossWeighting.mode. The paper wants each task's weight
// to adapt to how hard the task is so that easy tasks do not dominate. All weights are normalised to
// sum to K (the number of tasks in the stage), so "all ones" is the neutral point and the recipe's
// learning rate keeps its meaning whatever the mode.
//
// Protocol: the trainer calls observe(task, loss) for each task's loss in an optimizer step, then
// endStep(); weights() are the weights to use for the next step (log them with it). state() is plain
// JSON for checkpoints; createLossWeighting(config, tasks, state) resumes exactly.
import type { LossWeightingConfig } from './recipe.js';
import type { TaskName } from './tasks.js';

export type TaskWeights = Partial<Record<TaskName, number>>;

export interface LossWeightingState {
  mode: LossWeightingConfig['mode'];
  tasks: TaskName[];
  weights: number[];
  /** Sums and counts of the losses observed since the last update. */
  pendingSum: number[];
  pendingCount: number[];
  /** dwa: optimizer steps into the current period; the per-task average of the last two periods. */
  stepInPeriod: number;
  history: (number | null)[][];
  /** uncertainty: EMA of each task's loss and how many updates it has had (for bias correction). */
  ema: number[];
  emaUpdates: number[];
}

export interface LossWeighting {
  readonly mode: LossWeightingConfig['mode'];
  readonly tasks: readonly TaskName[];
  /** The weights for the current step, keyed by task; they sum to K. */
  weights(): TaskWeights;
  /** Records a task's mean loss over `count` examples within the current optimizer step. */
  observe(task: TaskName, loss: number, count?: number): void;
  /** Closes the optimizer step and updates the weights. */
  endStep(): void;
  state(): LossWeightingState;
}

const EPS = 1e-8;

class Weighting implements LossWeighting {
  private s: LossWeightingState;

  constructor(
    private readonly config: LossWeightingConfig,
    readonly tasks: readonly TaskName[],
    state?: LossWeightingState,
  ) {
    if (tasks.length === 0) throw new Error('loss weighting needs at least one task');
    const K = tasks.length;
    if (state) {
      if (state.mode !== config.mode || state.tasks.join() !== tasks.join()) {
        throw new Error(
          `cannot resume loss weighting: saved ${state.mode} over [${state.tasks}] but recipe says ` +
            `${config.mode} over [${tasks}]`,
        );
      }
      this.s = structuredClone(state);
    } else {
      this.s = {
        mode: config.mode,
        tasks: [...tasks],
        weights: new Array(K).fill(1),
        pendingSum: new Array(K).fill(0),
        pendingCount: new Array(K).fill(0),
        stepInPeriod: 0,
        history: [],
        ema: new Array(K).fill(0),
        emaUpdates: new Array(K).fill(0),
      };
    }
  }

  get mode(): LossWeightingConfig['mode'] {
    return this.config.mode;
  }

  weights(): TaskWeights {
    const out: TaskWeights = {};
    this.tasks.forEach((t, i) => {
      out[t] = this.s.weights[i];
    });
    return out;
  }

  observe(task: TaskName, loss: number, count = 1): void {
    const i = this.tasks.indexOf(task);
    if (i < 0) throw new Error(`task ${task} is not in this stage (${this.tasks.join(', ')})`);
    if (!Number.isFinite(loss)) throw new RangeError(`loss of task ${task} is ${loss}`);
    this.s.pendingSum[i] += loss * count;
    this.s.pendingCount[i] += count;
  }

  endStep(): void {
    if (this.config.mode === 'dwa') this.endStepDwa(this.config.temperature, this.config.period);
    else if (this.config.mode === 'uncertainty') this.endStepUncertainty(this.config.ema);
    else this.clearPending();
  }

  state(): LossWeightingState {
    return structuredClone(this.s);
  }

  private pendingMeans(): (number | null)[] {
    return this.s.pendingSum.map((sum, i) =>
      this.s.pendingCount[i] > 0 ? sum / this.s.pendingCount[i] : null,
    );
  }

  private clearPending(): void {
    this.s.pendingSum.fill(0);
    this.s.pendingCount.fill(0);
  }

  /**
   * DWA (Liu, Johns, Davison 2019): w_k(t) = K exp(r_k(t-1)/T) / sum_i exp(r_i(t-1)/T) with
   * r_k(t-1) = L_k(t-1) / L_k(t-2). A task whose loss falls slowly (r near or above 1) gets more weight.
   * The paper's "t" is an epoch; here it is a period of `period` optimizer steps, and L_k(t) is the
   * task's average loss over that period (a task not sampled in a period keeps its previous average,
   * which matters for tasks at a small sampling rate). Weights stay 1 until two periods are known.
   */
  private endStepDwa(T: number, period: number): void {
    this.s.stepInPeriod += 1;
    if (this.s.stepInPeriod < period) return;
    const prev = this.s.history[this.s.history.length - 1];
    const averages = this.pendingMeans().map((m, i) => m ?? prev?.[i] ?? null);
    this.clearPending();
    this.s.stepInPeriod = 0;
    this.s.history = [...this.s.history, averages].slice(-2);
    if (this.s.history.length < 2) return;
    const [older, newer] = this.s.history;
    if (older.some((v) => v === null) || newer.some((v) => v === null)) return;
    const r = newer.map((l, i) => (l as number) / Math.max(older[i] as number, EPS));
    const maxR = Math.max(...r);
    const e = r.map((ri) => Math.exp((ri - maxR) / T)); // shift for numerical safety; cancels out
    const sum = e.reduce((a, b) => a + b, 0);
    this.s.weights = e.map((ei) => (this.tasks.length * ei) / sum);
  }

  /**
   * Uncertainty weighting (Kendall, Gal, Cipolla 2018): L = sum_k L_k / (2 sigma_k^2) + log sigma_k,
   * with log sigma_k^2 learned. The engine's train step has no place for extra scalars outside the
   * model, so we use the closed form instead: for a fixed L_k the objective is minimised at
   * sigma_k^2 = L_k, i.e. the learned sigma tracks the task's loss level. We set sigma_k^2 to a
   * bias-corrected EMA of L_k (beta = `ema`), treated as a constant in the backward pass (as Kendall's
   * log-sigma term contributes no gradient to the model anyway), giving w_k proportional to
   * 1 / (2 EMA_k); then normalise to sum to K. A task not yet seen gets the mean raw weight.
   */
  private endStepUncertainty(beta: number): void {
    const means = this.pendingMeans();
    this.clearPending();
    means.forEach((m, i) => {
      if (m === null) return;
      this.s.ema[i] = beta * this.s.ema[i] + (1 - beta) * m;
      this.s.emaUpdates[i] += 1;
    });
    const raw = this.s.ema.map((v, i) =>
      this.s.emaUpdates[i] > 0 ? 1 / (2 * Math.max(v / (1 - beta ** this.s.emaUpdates[i]), EPS)) : null,
    );
    const seen = raw.filter((v): v is number => v !== null);
    if (seen.length === 0) return;
    const fill = seen.reduce((a, b) => a + b, 0) / seen.length;
    const full = raw.map((v) => v ?? fill);
    const sum = full.reduce((a, b) => a + b, 0);
    this.s.weights = full.map((v) => (this.tasks.length * v) / sum);
  }
}

export function createLossWeighting(
  config: LossWeightingConfig,
  tasks: readonly TaskName[],
  state?: LossWeightingState,
): LossWeighting {
  return new Weighting(config, tasks, state);
}

/**
 * Per-example loss scales for a micro-batch: w_task / N, so that with all weights 1 the weighted sum
 * equals the plain batch mean.
 */
export function exampleLossScales(tasks: readonly TaskName[], weights: TaskWeights): number[] {
  return tasks.map((t) => (weights[t] ?? 1) / tasks.length);
}

/** sum_k w_k L_k / K over the tasks present: the weighted multitask loss (for logging). */
export function weightedLoss(losses: TaskWeights, weights: TaskWeights): number {
  const tasks = Object.keys(losses) as TaskName[];
  if (tasks.length === 0) return 0;
  return tasks.reduce((s, t) => s + (weights[t] ?? 1) * (losses[t] as number), 0) / tasks.length;
}
