// Where a graph's parameters come from, and the check that a checkpoint has every tensor an
// architecture needs with the shape its config implies, before any graph is built or run.

import type { GraphBuilder, Tensor } from '@emoverse/onnx';
import type { Checkpoint } from '@emoverse/safetensors';

/** Expected parameter name -> shape, in HF naming and layout (Linear weights are [out, in]). */
export type WeightSpec = Map<string, number[]>;

export class WeightError extends Error {
  override name = 'WeightError';
}

/** Anything that can hand out float32 tensors by HF name. */
export interface WeightSource {
  has(name: string): boolean;
  shape(name: string): number[];
  readF32(name: string): Float32Array;
}

export function checkpointSource(ck: Checkpoint): WeightSource {
  return {
    has: (n) => ck.has(n),
    shape: (n) => ck.info(n).shape,
    readF32: (n) => ck.readF32(n).data,
  };
}

/** In-memory weights (random init, tests, merged LoRA). */
export function mapSource(m: Map<string, { shape: number[]; data: Float32Array }>): WeightSource {
  return {
    has: (n) => m.has(n),
    shape: (n) => {
      const t = m.get(n);
      if (!t) throw new WeightError(`missing tensor ${n}`);
      return t.shape;
    },
    readF32: (n) => {
      const t = m.get(n);
      if (!t) throw new WeightError(`missing tensor ${n}`);
      return t.data;
    },
  };
}

/** Throws, naming the tensor, if one is missing or has the wrong shape. Reads no data. */
export function checkWeights(spec: WeightSpec, src: WeightSource, what: string): void {
  for (const [name, shape] of spec) {
    if (!src.has(name)) throw new WeightError(`${what}: missing tensor ${name} (expected shape [${shape}])`);
    const got = src.shape(name);
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new WeightError(`${what}: tensor ${name} has shape [${got}] but the config implies [${shape}]`);
    }
  }
}

/**
 * Hands parameters to graph code. Frozen weights become initializers (read lazily, once);
 * names listed in `trainable` become graph inputs instead, so a train step can update them.
 */
export class ParamBinder {
  private readonly made = new Map<string, Tensor>();
  /** The trainable parameters this graph takes as inputs, in creation order. */
  readonly trainableInputs: { name: string; shape: number[] }[] = [];

  constructor(
    readonly g: GraphBuilder,
    readonly spec: WeightSpec,
    private readonly src: WeightSource | undefined,
    private readonly trainable: (name: string) => boolean = () => false,
    /** tensors made elsewhere (a train step's parameter inputs), used as they are */
    private readonly provided: Readonly<Record<string, Tensor>> = {},
  ) {}

  get(name: string): Tensor {
    const done = this.made.get(name);
    if (done) return done;
    const shape = this.spec.get(name);
    if (!shape) throw new WeightError(`graph asked for ${name}, which the architecture does not declare`);
    let t: Tensor;
    if (this.provided[name]) {
      t = this.provided[name];
    } else if (this.trainable(name)) {
      t = this.g.input(name, 'float32', shape);
      this.trainableInputs.push({ name, shape });
    } else {
      if (!this.src) throw new WeightError(`no weights given for frozen tensor ${name}`);
      t = this.g.initializer(name, this.src.readF32(name), shape);
    }
    this.made.set(name, t);
    return t;
  }
}
