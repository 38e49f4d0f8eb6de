// buildTrainStep: ONE graph holding forward, loss, gradients, loss unscaling, gradient
// accumulation, global-norm clipping and the optimizer update. Trainable parameters and
// optimizer state are graph inputs whose updated values are graph outputs (the runtime
// carries them from step to step, on the device); frozen weights are initializers.
import type { SerializedModel, SerializeOptions, Tensor } from '@emoverse/onnx';
import { GraphBuilder, toModelProto } from '@emoverse/onnx';
import { gradients } from './grad.js';
import { concatMany, splitMany } from './grad-helpers.js';
import type { OptimizerConfig } from './optim.js';
import { adamw, applyOptimizer, clipByGlobalNorm, globalNorm, optimizerSlots } from './optim.js';

export interface ParamSpec {
  data: Float32Array;
  shape: readonly number[];
}

export interface TrainStepSpec {
  name?: string;
  /** Trainable parameters (graph inputs; updated values are outputs `<name>:next`). */
  params: Record<string, ParamSpec>;
  /** Frozen weights (initializers). */
  frozen?: Record<string, ParamSpec>;
  /**
   * Builds the forward pass and returns the scalar loss. Batch inputs are declared inside
   * with g.input(...); `p` holds every trainable and frozen tensor by name.
   */
  forward: (g: GraphBuilder, p: Record<string, Tensor>) => Tensor;
  optimizer?: OptimizerConfig;
  /** Global-norm gradient clipping (torch clip_grad_norm_), off when absent. */
  clipGradNorm?: number;
  /**
   * Gradient accumulation: with k > 1 the graph adds each micro-batch's gradients to an
   * accumulator and applies the update (with the mean gradient) only when the `apply` input
   * is true. The Trainer sets `apply` on every k-th call.
   */
  microBatches?: number;
  /**
   * Loss-scaling hook for fp16: adds a `loss_scale` input; the backward pass is seeded with
   * it and the gradients divided by it before clipping. A non-finite result skips the update
   * (a dynamic scaler on the host then lowers the scale).
   */
  lossScaling?: boolean;
  /**
   * Keep optimizer state (and the accumulator) as ONE flat float32 vector per slot — inputs
   * `m`, `v` (or `momentum`), `grad_acc` — and update all parameters with one chain of ops on
   * the concatenated vector instead of one chain per parameter. Same numbers; far fewer
   * kernels, which is what matters on a GPU. Parameters stay separate inputs/outputs.
   */
  flatOptimizerState?: boolean;
}

export interface TrainStep {
  graph: GraphBuilder;
  /** Trainable parameter names, in order. */
  params: string[];
  /** Optimizer-state and accumulator input names, in order. */
  stateNames: string[];
  /** Output name -> the input it replaces for the next step. */
  carry: Record<string, string>;
  /** Inputs the forward pass declared (the batch). */
  batchInputs: Tensor[];
  /** Control inputs: lr, step, and apply / loss_scale when enabled. */
  controls: string[];
  /** Outputs to fetch every step. */
  fetch: ['loss', 'grad_norm', 'finite'];
  optimizer: OptimizerConfig;
  microBatches: number;
  /** Initial values of every carried input: the parameters (the given arrays, not copies; ORT
   *  never writes to its inputs), then zeros for all state. */
  initialState(): Record<string, { dtype: 'float32'; dims: readonly number[]; data: Float32Array }>;
  serialize(opts?: SerializeOptions): SerializedModel;
}

export const NEXT = ':next';

export function buildTrainStep(spec: TrainStepSpec): TrainStep {
  const g = new GraphBuilder(spec.name ?? 'train_step');
  const optimizer = spec.optimizer ?? adamw();
  const k = spec.microBatches ?? 1;
  const paramNames = Object.keys(spec.params);
  const params = paramNames.map((n) => g.input(n, 'float32', spec.params[n].shape));
  const all: Record<string, Tensor> = Object.fromEntries(paramNames.map((n, i) => [n, params[i]]));
  for (const [n, w] of Object.entries(spec.frozen ?? {})) all[n] = g.initializer(n, w.data, w.shape);

  const lr = g.input('lr', 'float32', []);
  const stepT = g.input('step', 'float32', []);
  const controls = ['lr', 'step'];
  const apply = k > 1 ? g.input('apply', 'bool', []) : undefined;
  if (apply) controls.push('apply');
  const lossScale = spec.lossScaling ? g.input('loss_scale', 'float32', []) : undefined;
  if (lossScale) controls.push('loss_scale');
  const slotNames = optimizerSlots(optimizer);
  const flat = spec.flatOptimizerState ?? false;
  const sizes = paramNames.map((n) => spec.params[n].data.length);
  const total = sizes.reduce((a, b) => a + b, 0);
  // One optimizer "group" per parameter, or a single group over the flattened parameters.
  const groupShapes: (readonly number[])[] = flat ? [[total]] : params.map((p) => p.shape as number[]);
  const groupNames = flat ? [''] : paramNames.map((n) => `/${n}`);
  const slots = groupShapes.map((shape, i) =>
    slotNames.map((s) => g.input(`${s}${groupNames[i]}`, 'float32', shape)),
  );
  const accs =
    k > 1 ? groupShapes.map((shape, i) => g.input(`grad_acc${groupNames[i]}`, 'float32', shape)) : [];

  const before = new Set(g.inputs.map((t) => t.name));
  const loss = g.scope('forward', () => spec.forward(g, all));
  if (loss.rank !== 0)
    throw new Error(`buildTrainStep: the forward pass must return a scalar loss, not ${loss}`);
  const batchInputs = g.inputs.filter((t) => !before.has(t.name));
  const lossF = loss.dtype === 'float32' ? loss : g.cast(loss, 'float32');

  let grads = gradients(g, loss, params, {
    seed: lossScale ? (loss.dtype === 'float32' ? lossScale : g.cast(lossScale, loss.dtype)) : undefined,
  });
  grads = grads.map((t) => (t.dtype === 'float32' ? t : g.cast(t, 'float32')));

  const carry: Record<string, string> = {};
  const outputs: { tensor: Tensor; input: Tensor }[] = [];
  g.scope('update', () => {
    // Group parameters and gradients (flattened and concatenated in flat mode).
    const flatten = (ts: Tensor[]) =>
      concatMany(
        g,
        ts.map((t) => g.reshape(t, [-1])),
        0,
      );
    const groupParams = flat ? [flatten(params)] : params;
    let groupGrads = flat ? [flatten(grads)] : grads;
    if (lossScale) groupGrads = groupGrads.map((t) => g.div(t, lossScale));
    let accNext: Tensor[] = [];
    if (k > 1) {
      accNext = groupGrads.map((t, i) => g.add(accs[i], t));
      groupGrads = accNext.map((t) => g.mul(t, 1 / k));
    }
    const norm = globalNorm(g, groupGrads);
    // s − s is NaN exactly when s is ±Inf or NaN: one test for both loss and gradients.
    const s = g.add(lossF, norm);
    const finite = g.not(g.isNaN(g.sub(s, s)));
    if (spec.clipGradNorm !== undefined)
      groupGrads = clipByGlobalNorm(g, groupGrads, norm, spec.clipGradNorm);
    const gate = apply ? g.and(finite, apply) : finite;
    const ctx = { g, lr, step: stepT };
    const newParams: Tensor[] = [];
    groupParams.forEach((p, i) => {
      const who = flat ? flatDecay(g, optimizer, paramNames, sizes) : paramNames[i];
      const up = applyOptimizer(optimizer, ctx, who, p, groupGrads[i], slots[i]);
      newParams.push(g.where(gate, up.param, p));
      for (const [j, t] of up.slots.entries())
        outputs.push({ tensor: g.where(gate, t, slots[i][j]), input: slots[i][j] });
    });
    const perParam = flat
      ? splitMany(g, newParams[0], sizes, 0).map((t, i) => g.reshape(t, params[i].shape as number[]))
      : newParams;
    for (const [i, t] of perParam.entries()) outputs.push({ tensor: t, input: params[i] });
    if (apply) {
      // After an update the accumulator restarts from zero; a non-finite micro-batch adds nothing.
      accNext.forEach((t, i) => {
        const kept = g.where(finite, t, accs[i]);
        outputs.push({ tensor: g.where(gate, g.mul(t, 0), kept), input: accs[i] });
      });
    }
    g.output(lossF, 'loss');
    g.output(norm, 'grad_norm');
    g.output(finite, 'finite');
  });
  for (const o of outputs) {
    const name = `${o.input.name}${NEXT}`;
    g.output(o.tensor, name);
    carry[name] = o.input.name;
  }
  const stateNames = [...slots.flat(), ...accs].map((t) => t.name);

  return {
    graph: g,
    params: paramNames,
    stateNames,
    carry,
    batchInputs,
    controls,
    fetch: ['loss', 'grad_norm', 'finite'],
    optimizer,
    microBatches: k,
    initialState() {
      const st: ReturnType<TrainStep['initialState']> = {};
      paramNames.forEach((n, i) => {
        st[n] = {
          dtype: 'float32',
          dims: params[i].shape as number[],
          data: spec.params[n].data,
        };
      });
      for (const t of [...slots.flat(), ...accs]) {
        const size = (t.shape as number[]).reduce((a, b) => a * b, 1);
        st[t.name] = { dtype: 'float32', dims: t.shape as number[], data: new Float32Array(size) };
      }
      return st;
    },
    serialize: (opts) => toModelProto(g, opts),
  };
}

/** Weight decay over the flat vector: true/false when uniform, else a 0/1 mask constant. */
function flatDecay(
  g: GraphBuilder,
  cfg: OptimizerConfig,
  names: readonly string[],
  sizes: readonly number[],
): boolean | { decayMask: Tensor } {
  if (cfg.type !== 'adamw') return true;
  const flags = names.map((n) => cfg.decay(n));
  if (flags.every((f) => f)) return true;
  if (flags.every((f) => !f)) return false;
  const name = 'weight_decay_mask';
  const existing = g.initializers.get(name);
  if (existing) return { decayMask: existing.tensor };
  const mask = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let o = 0;
  flags.forEach((f, i) => {
    if (f) mask.fill(1, o, o + sizes[i]);
    o += sizes[i];
  });
  return { decayMask: g.initializer(name, mask, [mask.length]) };
}
