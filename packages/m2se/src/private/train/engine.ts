// What the training loop needs from the engine. packages/models' train step is adapted to this in
// the trainer service; tests use the small pure-TypeScript BigramEngine. Keeping the loop on this
// interface keeps the recipe logic (sampling, weighting, schedule, checkpoints) free of ONNX Runtime.
import type { TaskName } from '../tasks.js';
import type { CollatedBatch } from './encode.js';
import type { EmtExample } from './examples.js';

/** Float tensors by name: trainable parameters and optimizer state, bit-exact. */
export type NamedTensors = Record<string, { shape: number[]; data: Float32Array }>;

export interface TrainBatch extends CollatedBatch {
  tasks: TaskName[];
  /** The examples behind the rows (for visual features: images, videos). */
  examples: readonly EmtExample[];
  /** Seed for this micro-batch's randomness (LoRA dropout), a function of (recipe seed, position). */
  seed: number;
  /** Learning rate of the optimizer step this micro-batch belongs to. */
  lr: number;
  /** Position in the gradient-accumulation group, and the group's size (shorter at an epoch's end). */
  accumulationIndex: number;
  accumulationSize: number;
  /** The recipe's gradAccumulation (the full group size). */
  gradAccumulation: number;
  /** True on the group's last micro-batch: the optimizer update follows its backward pass. */
  endsStep: boolean;
}

export interface TrainEngine {
  /**
   * Forward and backward of one micro-batch with the loss sum_e exampleScales[e] * mean token CE of
   * e, adding its gradients to the step's; when `endsStep`, then one optimizer update (AdamW) with
   * `lr` on the summed gradients, which are cleared. Returns each example's unweighted mean token loss.
   * (Update and last backward come together because one-graph train steps fuse them.)
   */
  microStep(batch: TrainBatch): Promise<ArrayLike<number>>;
  /** Trainable parameters and optimizer state (moments, step count): enough to continue bit-exactly. */
  saveState(): Promise<NamedTensors>;
  loadState(state: NamedTensors): Promise<void>;
}
