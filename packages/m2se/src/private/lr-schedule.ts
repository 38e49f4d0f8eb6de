// Learning rate as a pure function of the optimizer step: linear warm-up to the peak, then cosine
// decay to a floor. A pure function means resume needs only the step number, no scheduler state.

export interface LrSchedule {
  /** Peak learning rate (the recipe's lr). */
  peakLr: number;
  warmupSteps: number;
  /** Optimizer steps of the stage. */
  totalSteps: number;
  /** The floor the cosine ends at. */
  minLr: number;
}

/**
 * lr at optimizer step `step` (0-based). Warm-up: peak * (step + 1) / warmupSteps, so step 0 already
 * moves the weights. Decay: minLr + (peak - minLr) * (1 + cos(pi * p)) / 2 with
 * p = (step - warmupSteps) / (totalSteps - warmupSteps), as transformers' cosine schedule: the first
 * decay step is at the peak and the floor is reached just after the last step, so no step is wasted
 * at lr 0. Steps past the end stay at the floor.
 */
export function learningRate(step: number, s: LrSchedule): number {
  if (step < 0) throw new RangeError(`step ${step} < 0`);
  if (step < s.warmupSteps) return (s.peakLr * (step + 1)) / s.warmupSteps;
  const decaySteps = s.totalSteps - s.warmupSteps;
  if (decaySteps <= 0 || step >= s.totalSteps) return s.minLr;
  const p = (step - s.warmupSteps) / decaySteps;
  return s.minLr + ((s.peakLr - s.minLr) * (1 + Math.cos(Math.PI * p))) / 2;
}

/** The schedule of one stage of a recipe (each stage warms up and decays anew, like the paper's runs). */
export function stageLrSchedule(
  recipe: { optimizer: { lr: number }; schedule: { minLrRatio: number } },
  plan: { totalSteps: number; warmupSteps: number },
): LrSchedule {
  return {
    peakLr: recipe.optimizer.lr,
    warmupSteps: plan.warmupSteps,
    totalSteps: plan.totalSteps,
    minLr: recipe.optimizer.lr * recipe.schedule.minLrRatio,
  };
}
