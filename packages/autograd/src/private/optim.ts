// Optimizers and gradient clipping as graph ops, so the update runs in the same session as
// forward and backward and parameters never leave the device.
import type { GraphBuilder, Tensor } from '@emoverse/onnx';

export interface AdamWConfig {
  type: 'adamw';
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Which parameters get weight decay (PyTorch default: all of the group). */
  decay: (param: string) => boolean;
}

export interface SgdConfig {
  type: 'sgd';
  lr: number;
  momentum: number;
  weightDecay: number;
}

export type OptimizerConfig = AdamWConfig | SgdConfig;

/** AdamW with torch.optim.AdamW's defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8, wd 0.01). */
export function adamw(cfg: Partial<Omit<AdamWConfig, 'type'>> = {}): AdamWConfig {
  return {
    type: 'adamw',
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.01,
    decay: () => true,
    ...cfg,
  };
}

/** SGD with optional momentum and (coupled, as torch.optim.SGD) weight decay. */
export function sgd(cfg: Partial<Omit<SgdConfig, 'type'>> = {}): SgdConfig {
  return { type: 'sgd', lr: 1e-2, momentum: 0, weightDecay: 0, ...cfg };
}

/** Names of the optimizer-state tensors kept per parameter. */
export function optimizerSlots(cfg: OptimizerConfig): string[] {
  if (cfg.type === 'adamw') return ['m', 'v'];
  return cfg.momentum ? ['momentum'] : [];
}

export interface UpdateContext {
  g: GraphBuilder;
  /** Learning rate (scalar graph input, so schedules need no rebuild). */
  lr: Tensor;
  /** The optimizer step t this update makes, 1-based (scalar graph input). */
  step: Tensor;
}

/**
 * One parameter's update (or the update of all parameters flattened into one vector, when
 * `who` gives a 0/1 weight-decay mask, or true/false for all, instead of a name). Returns the new parameter and new
 * slot values, in the order of optimizerSlots(cfg).
 */
export function applyOptimizer(
  cfg: OptimizerConfig,
  ctx: UpdateContext,
  who: string | boolean | { decayMask: Tensor },
  param: Tensor,
  grad: Tensor,
  slots: readonly Tensor[],
): { param: Tensor; slots: Tensor[] } {
  const { g, lr } = ctx;
  if (cfg.type === 'sgd') {
    let d = cfg.weightDecay ? g.add(grad, g.mul(param, cfg.weightDecay)) : grad;
    const out: Tensor[] = [];
    if (cfg.momentum) {
      // torch: buf = momentum·buf + d (dampening 0); the first step's buf is d itself,
      // which is what momentum·0 + d gives with zero-initialised state.
      d = g.add(g.mul(slots[0], cfg.momentum), d);
      out.push(d);
    }
    return { param: g.sub(param, g.mul(d, lr)), slots: out };
  }
  // AdamW as torch.optim.AdamW: decoupled decay p ← p·(1 − lr·wd), then
  // m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps).
  const [m, v] = slots;
  let decayed = param;
  const uniform = typeof who === 'string' ? cfg.decay(who) : typeof who === 'boolean' ? who : undefined;
  if (cfg.weightDecay && uniform) decayed = g.mul(param, g.sub(1, g.mul(lr, cfg.weightDecay)));
  else if (cfg.weightDecay && typeof who === 'object')
    decayed = g.sub(param, g.mul(param, g.mul(who.decayMask, g.mul(lr, cfg.weightDecay))));
  const m1 = g.add(g.mul(m, cfg.beta1), g.mul(grad, 1 - cfg.beta1));
  const v1 = g.add(g.mul(v, cfg.beta2), g.mul(g.mul(grad, grad), 1 - cfg.beta2));
  const bc1 = g.sub(1, g.pow(g.constant(cfg.beta1), ctx.step));
  const bc2 = g.sub(1, g.pow(g.constant(cfg.beta2), ctx.step));
  const denom = g.add(g.div(g.sqrt(v1), g.sqrt(bc2)), cfg.eps);
  const stepSize = g.div(lr, bc1);
  const next = g.sub(decayed, g.mul(stepSize, g.div(m1, denom)));
  return { param: next, slots: [m1, v1] };
}

/** √(Σ‖g_i‖²) over all gradients (float32 scalar). */
export function globalNorm(g: GraphBuilder, grads: readonly Tensor[]): Tensor {
  const squares = grads.map((t) => g.sumAll(g.mul(t, t)));
  return g.sqrt(squares.reduce((a, b) => g.add(a, b)));
}

/** torch.nn.utils.clip_grad_norm_: scale by min(1, max_norm / (norm + 1e-6)). */
export function clipByGlobalNorm(
  g: GraphBuilder,
  grads: readonly Tensor[],
  norm: Tensor,
  maxNorm: number,
): Tensor[] {
  const coef = g.min(g.div(g.constant(maxNorm, norm.dtype), g.add(norm, 1e-6)), 1);
  return grads.map((t) => g.mul(t, coef));
}
