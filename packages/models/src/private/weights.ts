// Where a graph's parameters come from, and the check that a checkpoint has every tensor an
// architecture needs with the shape its config implies, before any graph is built or run.

import { basename } from 'node:path';
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
  /** where an fp32 tensor's bytes lie in a file, when they do (lets ORT read them itself) */
  fileRange?(name: string): { path: string; offset: number; length: number } | undefined;
}

export function checkpointSource(ck: Checkpoint): WeightSource {
  return {
    has: (n) => ck.has(n),
    shape: (n) => ck.info(n).shape,
    readF32: (n) => ck.readF32(n).data,
    fileRange: (n) => {
      const r = ck.fileRange(n);
      return r.dtype === 'F32' ? r : undefined;
    },
  };
}

/**
 * Files that a graph's file initializers point into: the location written in the model ->
 * the real path. The session links them beside the model file (session.ts).
 */
const fileLinks = new WeakMap<GraphBuilder, Map<string, string>>();

export function graphFiles(g: GraphBuilder): Map<string, string> | undefined {
  return fileLinks.get(g);
}

function linkFor(g: GraphBuilder, path: string): string {
  let m = fileLinks.get(g);
  if (!m) {
    m = new Map();
    fileLinks.set(g, m);
  }
  const loc = basename(path);
  const had = m.get(loc);
  if (had && had !== path)
    throw new WeightError(`weights in files: ${had} and ${path} share a name; shards must be in one folder`);
  m.set(loc, path);
  return loc;
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
    /** frozen fp32 weights that lie in a file become file initializers: ORT reads them, JS never holds them */
    private readonly weightsInFiles = false,
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
      const range = this.weightsInFiles ? this.src.fileRange?.(name) : undefined;
      t = range
        ? this.g.fileInitializer(name, 'float32', shape, {
            location: linkFor(this.g, range.path),
            offset: range.offset,
            length: range.length,
          })
        : this.g.initializer(name, this.src.readF32(name), shape);
    }
    this.made.set(name, t);
    return t;
  }
}
