// The TrainEngine over packages/models' LmTrainer (one ONNX graph: forward, weighted loss, autodiff,
// clipping, AdamW, gradient accumulation). Typed structurally so that this domain package needs no
// import of the engine; the trainer service passes `await LmTrainer.create(model, ...)`.
import type { NamedTensors, TrainBatch, TrainEngine } from './engine.js';
import type { EmtExample } from './examples.js';

export interface VisualFeatures {
  /** T_v per example, [examples, N, D_v] row-major. */
  data: Float32Array;
  dims: [number, number, number];
}

/** What LmTrainer offers (packages/models/src/private/train.ts). */
export interface LmTrainerLike {
  readonly train: { step: { microBatches: number } };
  step(
    batch: {
      inputIds: number[][];
      labels?: number[][];
      exampleWeights?: number[];
      normalize?: 'tokens' | 'examples';
      visualFeatures?: VisualFeatures;
    },
    o: { lr?: number; apply?: boolean },
  ): Promise<{ exampleLoss: number[] }>;
  saveState(): Promise<{
    tensors: Record<string, { dims: number[]; data: Float32Array }>;
    steps: number;
    calls: number;
  }>;
  loadState(state: {
    tensors: Record<string, { dims: number[]; data: Float32Array }>;
    steps: number;
    calls: number;
  }): Promise<void>;
}

/** The batch LmTrainer.step takes (models' TextBatch). */
export type LmTextBatch = Parameters<LmTrainerLike['step']>[0];

export interface LmTrainerEngineOptions {
  /** T_v for the examples of a micro-batch (EmoVerse); absent or undefined for text-only batches. */
  visualFeatures?: (
    examples: readonly EmtExample[],
  ) => VisualFeatures | undefined | Promise<VisualFeatures | undefined>;
  /**
   * Builds the engine's batch itself, e.g. with EmoVerseLM.trainBatch (its chat template, image
   * placeholders and T_v), given the examples and their weights for 'examples' normalisation.
   * Default: the loop's own tokenization (batch.inputIds / labels) plus `visualFeatures`.
   */
  textBatch?: (batch: TrainBatch, exampleWeights: number[]) => LmTextBatch | Promise<LmTextBatch>;
}

const COUNTERS = ['lm_trainer.steps', 'lm_trainer.calls'] as const;

export function lmTrainerEngine(trainer: LmTrainerLike, options: LmTrainerEngineOptions = {}): TrainEngine {
  const k = trainer.train.step.microBatches;
  return {
    async microStep(batch: TrainBatch) {
      if (batch.gradAccumulation !== k) {
        throw new Error(
          `the train step was built for ${k} micro-batches per update but the recipe accumulates ${batch.gradAccumulation}`,
        );
      }
      const B = batch.inputIds.length;
      // LmTrainer's 'examples' normalisation takes (1/B) sum_e w_e mean CE_e and the graph averages
      // the accumulated gradient over k micro-batches; scale back to sum_e exampleScales_e mean CE_e.
      const exampleWeights = batch.exampleScales.map((s) => s * B * k);
      let text: LmTextBatch;
      if (options.textBatch) {
        text = { ...(await options.textBatch(batch, exampleWeights)), exampleWeights, normalize: 'examples' };
      } else {
        const lengths = batch.attentionMask.map((m) => m.reduce((x, y) => x + y, 0));
        text = {
          inputIds: batch.inputIds.map((r, i) => r.slice(0, lengths[i])),
          labels: batch.labels.map((r, i) => r.slice(0, lengths[i])),
          exampleWeights,
          normalize: 'examples',
          visualFeatures: options.visualFeatures ? await options.visualFeatures(batch.examples) : undefined,
        };
      }
      const out = await trainer.step(text, { lr: batch.lr, apply: batch.endsStep });
      return out.exampleLoss;
    },
    async saveState(): Promise<NamedTensors> {
      const s = await trainer.saveState();
      const out: NamedTensors = {};
      for (const [n, t] of Object.entries(s.tensors)) out[n] = { shape: [...t.dims], data: t.data };
      out[COUNTERS[0]] = { shape: [1], data: Float32Array.of(s.steps) };
      out[COUNTERS[1]] = { shape: [1], data: Float32Array.of(s.calls) };
      return out;
    },
    async loadState(state: NamedTensors) {
      const tensors: Record<string, { dims: number[]; data: Float32Array }> = {};
      for (const [n, t] of Object.entries(state)) {
        if (!(COUNTERS as readonly string[]).includes(n)) tensors[n] = { dims: t.shape, data: t.data };
      }
      const counter = (n: string) => {
        const t = state[n];
        if (!t) throw new Error(`checkpoint lacks ${n}`);
        return t.data[0];
      };
      await trainer.loadState({ tensors, steps: counter(COUNTERS[0]), calls: counter(COUNTERS[1]) });
    },
  };
}
