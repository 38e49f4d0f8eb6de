// Runs a TrainStep graph step after step: parameters and optimizer state are carried by the
// runtime (on the device where the EP allows), the host only sends batches and reads the loss.
import type { HostTensor, SessionOptions } from '@emoverse/runtime';
import { Session, WorkerSession } from '@emoverse/runtime';
import type { TrainStep } from './train-step.js';

/** A NaN or Inf loss (or gradient norm): the update was not applied. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly gradNorm: number,
  ) {
    super(
      `non-finite loss at step ${step}: loss=${loss}, grad_norm=${gradNorm}; parameters were not updated`,
    );
    this.name = 'NonFiniteLossError';
  }
}

export interface TrainerOptions extends SessionOptions {
  /** Run the session in a worker thread (keeps the event loop free). */
  worker?: boolean;
  /** 'throw' (default) raises NonFiniteLossError; 'skip' returns the result with finite: false. */
  onNonFinite?: 'throw' | 'skip';
}

export interface StepResult {
  /** Optimizer steps applied so far (after this call). */
  step: number;
  /** Micro-batch calls so far (after this call). */
  call: number;
  loss: number;
  gradNorm: number;
  finite: boolean;
  /** Whether this call applied an optimizer update. */
  applied: boolean;
}

type Runner = {
  ep: string;
  setState(init: Record<string, HostTensor>, carry: Record<string, string>): Promise<void> | void;
  step(
    feeds: Record<string, HostTensor>,
    fetch: readonly string[],
  ): Promise<{ fetched: Record<string, HostTensor>; committed: boolean }>;
  readState(names?: readonly string[]): Promise<Record<string, HostTensor>>;
  stateLocations(): Promise<Record<string, string>> | Record<string, string>;
  release(): Promise<void>;
};

function scalar(v: number): HostTensor {
  return { dtype: 'float32', dims: [], data: Float32Array.of(v) };
}

export class Trainer {
  private steps = 0;
  private calls = 0;

  private constructor(
    readonly trainStep: TrainStep,
    private readonly runner: Runner,
    private readonly opts: TrainerOptions,
  ) {}

  get ep(): string {
    return this.runner.ep;
  }
  get stepCount(): number {
    return this.steps;
  }

  static async create(trainStep: TrainStep, opts: TrainerOptions = {}): Promise<Trainer> {
    const model = trainStep.serialize();
    let runner: Runner;
    const keepOnDevice = opts.keepOnDevice ?? Object.keys(trainStep.carry);
    if (opts.worker) {
      const ws = await WorkerSession.create(model, { ...opts, keepOnDevice });
      runner = {
        ep: ws.ep,
        setState: (i, c) => ws.setState(i, c),
        step: (f, names) => ws.step(f, names, { requireFinite: ['loss', 'grad_norm'] }),
        readState: (n) => ws.readState(n),
        stateLocations: () => ws.stateLocations(),
        release: () => ws.release(),
      };
    } else {
      const s = await Session.create(model, { ...opts, keepOnDevice });
      runner = {
        ep: s.ep,
        setState: (i, c) => s.setState(i, c),
        step: async (f, names) => {
          let committed = true;
          const out = await s.step(f, names, (r) => {
            // The graph already keeps the old values when non-finite; this keeps the
            // host-side state consistent too.
            committed = (r.finite.data as Uint8Array)[0] === 1;
            return committed;
          });
          const fetched: Record<string, HostTensor> = {};
          for (const [k, v] of Object.entries(out))
            fetched[k] = { dtype: v.type, dims: v.dims, data: v.data };
          return { fetched, committed };
        },
        readState: (n) => s.readState(n),
        stateLocations: () => s.stateLocations(),
        release: () => s.release(),
      };
    }
    await runner.setState(trainStep.initialState(), trainStep.carry);
    return new Trainer(trainStep, runner, opts);
  }

  /**
   * One call = one micro-batch; with microBatches k the optimizer update happens on every
   * k-th call. `lr` overrides the optimizer's learning rate (schedules).
   */
  async step(
    batch: Record<string, HostTensor>,
    opts: { lr?: number; lossScale?: number } = {},
  ): Promise<StepResult> {
    const ts = this.trainStep;
    const applies = (this.calls + 1) % ts.microBatches === 0;
    const feeds: Record<string, HostTensor> = {
      ...batch,
      lr: scalar(opts.lr ?? ts.optimizer.lr),
      step: scalar(this.steps + 1),
    };
    if (ts.controls.includes('apply'))
      feeds.apply = { dtype: 'bool', dims: [], data: Uint8Array.of(applies ? 1 : 0) };
    if (ts.controls.includes('loss_scale')) feeds.loss_scale = scalar(opts.lossScale ?? 1);
    const { fetched } = await this.runner.step(feeds, ts.fetch);
    const loss = (fetched.loss.data as Float32Array)[0];
    const gradNorm = (fetched.grad_norm.data as Float32Array)[0];
    const finite = Number.isFinite(loss) && Number.isFinite(gradNorm);
    if (!finite) {
      if ((this.opts.onNonFinite ?? 'throw') === 'throw')
        throw new NonFiniteLossError(this.steps + 1, loss, gradNorm);
      return { step: this.steps, call: this.calls, loss, gradNorm, finite, applied: false };
    }
    this.calls++;
    if (applies) this.steps++;
    return { step: this.steps, call: this.calls, loss, gradNorm, finite, applied: applies };
  }

  /** Current parameters (and optionally optimizer state), copied to the CPU. */
  async state(names?: readonly string[]): Promise<Record<string, HostTensor>> {
    return this.runner.readState(names ?? this.trainStep.params);
  }

  /** Where each parameter and optimizer-state value lives: 'cpu' or 'gpu-buffer'. */
  async stateLocations(): Promise<Record<string, string>> {
    return this.runner.stateLocations();
  }

  release(): Promise<void> {
    return this.runner.release();
  }
}
