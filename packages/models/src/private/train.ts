// The training API the trainer calls: a one-graph train step (forward, weighted loss, autodiff,
// clipping, AdamW) over a decoder or an EmoVerse model, with LoRA adapters (base frozen),
// the projector W_v, or every weight (training emoverse-nano from scratch) as the trainable set.
import {
  type AdamWConfig,
  adamw,
  buildTrainStep,
  type OptimizerConfig,
  type TrainStep,
} from '@emoverse/autograd';
import type { Tensor } from '@emoverse/onnx';
import { type HostTensor, Session, type SessionOptions } from '@emoverse/runtime';
import { lossFeeds, type TextBatch } from './batch.js';
import { DROPOUT_SEED, dropoutSeed } from './dropout.js';
import { EmoVerseModel } from './emoverse.js';
import { buildLm, type DecoderModel } from './lm.js';
import { adapterFromTensors, initLora, loraTensors } from './lora.js';
import { DEFAULT_LORA, type LoraAdapter, type LoraSettings, writePeftAdapter } from './peft.js';
import { perExampleLoss } from './targets.js';

export interface TrainOptions {
  /** LoRA settings (default r=8, alpha=32, dropout 0, q/k/v/o/gate/up/down), or an adapter to continue; false = no LoRA */
  lora?: Partial<LoraSettings> | LoraAdapter | false;
  /** train every base weight too (from-scratch presets); the base is frozen otherwise */
  trainBase?: boolean;
  /** EmoVerse: train the projector W_v (default true) */
  trainProjector?: boolean;
  optimizer?: OptimizerConfig;
  clipGradNorm?: number;
  microBatches?: number;
  /** seed for the LoRA A init and the LoRA dropout masks (see dropoutSeed) */
  seed?: number;
  /** where the step runs (default CPU EP; e.g. { ep: 'webgpu' }) */
  session?: SessionOptions;
}

export interface LmTrainStep {
  step: TrainStep;
  /** the run's seed (TrainOptions.seed): LoRA dropout masks derive from it and the micro-batch count */
  seed: number;
  /** whether the step takes a `dropout_seed` input (LoRA dropout > 0) */
  usesDropoutSeed: boolean;
  llm: DecoderModel;
  emoverse?: EmoVerseModel;
  /** the LoRA layout (values are the initial ones) */
  adapter?: LoraAdapter;
}

function isAdapter(x: unknown): x is LoraAdapter {
  return !!x && typeof x === 'object' && 'modules' in x;
}

/**
 * Builds the one-graph train step. Its batch inputs are those of the LM graph (input_ids,
 * position_ids, attention_bias, labels, token_weights, and for EmoVerse visual_features,
 * visual_index); it outputs loss, grad_norm, finite and token_loss [batch, seq].
 */
export function buildLmTrainStep(model: DecoderModel | EmoVerseModel, o: TrainOptions = {}): LmTrainStep {
  const emoverse = model instanceof EmoVerseModel ? model : undefined;
  const llm = emoverse ? emoverse.llm : (model as DecoderModel);
  const params: Record<string, { data: Float32Array; shape: number[] }> = {};
  let adapter: LoraAdapter | undefined;
  if (o.lora !== false) {
    adapter = isAdapter(o.lora) ? o.lora : initLora(llm, { ...DEFAULT_LORA, ...(o.lora ?? {}) }, o.seed ?? 0);
    for (const [n, t] of loraTensors(adapter)) params[n] = t;
  }
  if (o.trainBase) for (const [n, shape] of llm.spec) params[n] = { data: llm.weights.readF32(n), shape };
  const trainProjector = emoverse !== undefined && (o.trainProjector ?? true);
  if (emoverse && trainProjector) {
    for (const [n, shape] of emoverse.projectorSpec)
      params[n] = { data: emoverse.projector.readF32(n), shape };
  }
  if (Object.keys(params).length === 0)
    throw new Error('buildLmTrainStep: nothing to train (no LoRA, base or projector)');
  const step = buildTrainStep({
    name: 'lm_train_step',
    params,
    optimizer: o.optimizer ?? adamw(),
    clipGradNorm: o.clipGradNorm,
    microBatches: o.microBatches,
    forward: (g, p: Record<string, Tensor>) => {
      const hook = emoverse?.embedHook({ trainProjector, provided: p });
      const r = buildLm(g, llm, {
        loss: true,
        logits: 'none',
        training: true,
        provided: p,
        lora: adapter ? { settings: adapter.settings, trainable: true } : undefined,
        embed: hook?.embed,
      });
      g.output(r.tokenLoss!, 'token_loss');
      return r.loss!;
    },
  });
  const usesDropoutSeed = step.batchInputs.some((t) => t.name === DROPOUT_SEED);
  return { step, llm, emoverse, adapter, seed: o.seed ?? 0, usesDropoutSeed };
}

export interface TrainStepResult {
  step: number;
  loss: number;
  gradNorm: number;
  /** mean token loss of each example (for per-task loss tracking) */
  exampleLoss: number[];
  applied: boolean;
}

/** Runs an LmTrainStep: parameters and AdamW state stay in the session between steps. */
export class LmTrainer {
  private steps = 0;
  private calls = 0;

  private constructor(
    readonly train: LmTrainStep,
    private readonly session: Session,
  ) {}

  static async create(
    model: DecoderModel | EmoVerseModel,
    o: TrainOptions & { session?: SessionOptions } = {},
  ): Promise<LmTrainer> {
    const train = buildLmTrainStep(model, o);
    const session = await Session.create(train.step.serialize(), {
      ep: 'cpu',
      keepOnDevice: Object.keys(train.step.carry),
      ...o.session,
    });
    session.setState(train.step.initialState(), train.step.carry);
    return new LmTrainer(train, session);
  }

  get optimizer(): OptimizerConfig {
    return this.train.step.optimizer;
  }

  /**
   * One micro-batch; the update happens on every microBatches-th call, or when `apply` says so
   * (a trainer whose last accumulation group of an epoch is shorter). Non-finite losses are not
   * applied and throw. LoRA dropout masks are drawn from `dropoutSeed` if given, else from
   * (TrainOptions.seed, micro-batches seen so far): the count is part of saveState(), so a
   * resumed run draws the masks the uninterrupted run would have drawn.
   */
  async step(
    batch: TextBatch,
    o: { lr?: number; apply?: boolean; dropoutSeed?: number } = {},
  ): Promise<TrainStepResult> {
    const ts = this.train.step;
    const { feeds, targets } = lossFeeds(batch, this.train.llm.config.padTokenId ?? 0, this.train.emoverse);
    const applies = ts.microBatches === 1 || (o.apply ?? (this.calls + 1) % ts.microBatches === 0);
    const all: Record<string, HostTensor> = {
      ...feeds,
      lr: scalar(o.lr ?? (ts.optimizer as AdamWConfig).lr),
      step: scalar(this.steps + 1),
    };
    if (this.train.usesDropoutSeed) {
      const seed = o.dropoutSeed ?? dropoutSeed(this.train.seed, this.calls);
      all[DROPOUT_SEED] = { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(seed >>> 0)) };
    }
    if (ts.controls.includes('apply'))
      all.apply = { dtype: 'bool', dims: [], data: Uint8Array.of(applies ? 1 : 0) };
    const out = await this.session.step(
      all,
      ['loss', 'grad_norm', 'finite', 'token_loss'],
      (r) => (r.finite.data as Uint8Array)[0] === 1,
    );
    const loss = (out.loss.data as Float32Array)[0];
    const gradNorm = (out.grad_norm.data as Float32Array)[0];
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      throw new Error(
        `non-finite loss at step ${this.steps + 1}: loss=${loss}, grad_norm=${gradNorm}; parameters were not updated`,
      );
    }
    this.calls++;
    if (applies) this.steps++;
    return {
      step: this.steps,
      loss,
      gradNorm,
      exampleLoss: perExampleLoss(out.token_loss.data as Float32Array, targets),
      applied: applies,
    };
  }

  /**
   * Everything needed to continue bit-exactly after a restart: parameters, optimizer moments and
   * gradient accumulators (the session's carried state), and the step counters.
   */
  async saveState(): Promise<LmTrainerState> {
    const st = await this.session.readState();
    const tensors: LmTrainerState['tensors'] = {};
    for (const [k, v] of Object.entries(st)) tensors[k] = { dims: [...v.dims], data: v.data as Float32Array };
    return { tensors, steps: this.steps, calls: this.calls };
  }

  /** Restores a saveState() result (same model, LoRA layout and optimizer). */
  async loadState(state: LmTrainerState): Promise<void> {
    const initial = this.train.step.initialState();
    const feeds: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(initial)) {
      const saved = state.tensors[name];
      if (!saved || saved.data.length !== t.data.length) {
        throw new Error(`trainer state: ${name} is missing or has another size than [${t.dims}]`);
      }
      feeds[name] = { dtype: 'float32', dims: [...t.dims], data: Float32Array.from(saved.data) };
    }
    this.session.setState(feeds, this.train.step.carry);
    this.steps = state.steps;
    this.calls = state.calls;
  }

  /** Current trainable values by name (LoRA A/B, projector, base weights). */
  async parameters(): Promise<Map<string, Float32Array>> {
    const st = await this.session.readState(this.train.step.params);
    return new Map(Object.entries(st).map(([k, v]) => [k, v.data as Float32Array]));
  }

  /** The current LoRA adapter. */
  async adapter(): Promise<LoraAdapter> {
    if (!this.train.adapter) throw new Error('this train step has no LoRA adapter');
    const p = await this.parameters();
    return adapterFromTensors(this.train.adapter, (n) => p.get(n)!);
  }

  /** Saves the adapter in PEFT's format (adapter_config.json + adapter_model.safetensors). */
  async savePeft(dir: string): Promise<void> {
    writePeftAdapter(dir, await this.adapter());
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export interface LmTrainerState {
  tensors: Record<string, { dims: number[]; data: Float32Array }>;
  /** optimizer updates done (AdamW's bias-correction step) and micro-batches seen */
  steps: number;
  calls: number;
}

function scalar(v: number): HostTensor {
  return { dtype: 'float32', dims: [], data: Float32Array.of(v) };
}
