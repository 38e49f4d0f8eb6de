// A small but real TrainEngine in plain TypeScript: a bigram language model (logits of the next token
// = row W[current token]) trained with AdamW. It has the engine's contract (weighted token
// cross-entropy, gradient accumulation, bit-exact state) without ONNX Runtime, so the loop, the
// checkpoints and crash/resume are tested on CPU in milliseconds. It also serves as a baseline.
import { Rng } from '../rng.js';
import { IGNORE_INDEX } from './encode.js';
import type { NamedTensors, TrainBatch, TrainEngine } from './engine.js';

export interface BigramOptions {
  vocabSize: number;
  seed: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class BigramEngine implements TrainEngine {
  readonly V: number;
  private W: Float32Array;
  private m: Float32Array;
  private v: Float32Array;
  private grad: Float64Array;
  private t = 0;
  private readonly o: Required<BigramOptions>;

  constructor(options: BigramOptions) {
    this.o = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...options };
    this.V = options.vocabSize;
    const n = this.V * this.V;
    this.W = new Float32Array(n);
    const rng = Rng.from(options.seed, 'bigram init');
    for (let i = 0; i < n; i++) this.W[i] = (rng.next() - 0.5) * 0.02;
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
    this.grad = new Float64Array(n);
  }

  async microStep(batch: TrainBatch): Promise<number[]> {
    const losses = this.accumulate(batch);
    if (batch.endsStep) this.update(batch.lr);
    return losses;
  }

  /** Forward + backward: adds d(sum_e scale_e * mean CE_e)/dW to the gradient. */
  private accumulate(batch: TrainBatch): number[] {
    const V = this.V;
    const p = new Float64Array(V);
    return batch.inputIds.map((ids, b) => {
      let sum = 0;
      let count = 0;
      const perToken = batch.counted[b] ? batch.exampleScales[b] / batch.counted[b] : 0;
      // logits at t predict labels[t + 1] (the labels are unshifted)
      for (let t = 0; t + 1 < ids.length; t++) {
        const label = batch.labels[b][t + 1];
        if (label === IGNORE_INDEX) continue;
        const row = ids[t] * V;
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < V; j++) max = Math.max(max, this.W[row + j]);
        let z = 0;
        for (let j = 0; j < V; j++) {
          p[j] = Math.exp(this.W[row + j] - max);
          z += p[j];
        }
        const loss = -Math.log(p[label] / z);
        sum += loss;
        count++;
        for (let j = 0; j < V; j++) this.grad[row + j] += perToken * (p[j] / z - (j === label ? 1 : 0));
      }
      return count ? sum / count : 0;
    });
  }

  private update(lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.o;
    this.t += 1;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    for (let i = 0; i < this.W.length; i++) {
      const g = this.grad[i];
      this.m[i] = beta1 * this.m[i] + (1 - beta1) * g;
      this.v[i] = beta2 * this.v[i] + (1 - beta2) * g * g;
      const w = this.W[i] * (1 - lr * weightDecay);
      this.W[i] = w - (lr * (this.m[i] / c1)) / (Math.sqrt(this.v[i] / c2) + eps);
    }
    this.grad.fill(0);
  }

  async saveState(): Promise<NamedTensors> {
    const shape = [this.V, this.V];
    return {
      W: { shape, data: this.W.slice() },
      'adamw.m.W': { shape, data: this.m.slice() },
      'adamw.v.W': { shape, data: this.v.slice() },
      'adamw.step': { shape: [1], data: Float32Array.of(this.t) },
    };
  }

  async loadState(state: NamedTensors): Promise<void> {
    const need = (name: string, n: number) => {
      const t = state[name];
      if (!t || t.data.length !== n) throw new Error(`bigram state: ${name} missing or of the wrong size`);
      return t.data.slice();
    };
    const n = this.V * this.V;
    this.W = need('W', n);
    this.m = need('adamw.m.W', n);
    this.v = need('adamw.v.W', n);
    this.t = need('adamw.step', 1)[0];
    this.grad.fill(0);
  }
}

/** A byte-level tokenizer for the bigram engine: each UTF-8 byte is a token (vocab 256). */
export const byteTokenizer = {
  encode(text: string): number[] {
    return [...new TextEncoder().encode(text)];
  },
};
