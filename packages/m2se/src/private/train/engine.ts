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
}

export interface TrainEngine {
  /**
   * Forward and backward of one micro-batch with the loss sum(tokenWeights * token cross-entropy);
   * adds its gradients to the accumulated ones. Returns each example's unweighted mean token loss.
   */
  accumulate(batch: TrainBatch): Promise<ArrayLike<number>>;
  /** One optimizer update (AdamW) with learning rate `lr` on the accumulated gradients, which it then clears. */
  step(lr: number): Promise<void>;
  /** Trainable parameters and optimizer state (moments, step count): enough to continue bit-exactly. */
  saveState(): Promise<NamedTensors>;
  loadState(state: NamedTensors): Promise<void>;
}
