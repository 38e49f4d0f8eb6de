// A session on one chosen EP, plus "carried state": outputs that become the next run's
// inputs (updated parameters and optimizer moments of a training step). Carried values stay
// where ORT put them; on WebGPU that is a GPU buffer, so parameters never cross the bus.

import type { DType, SerializedModel } from '@emoverse/onnx';
import { GraphBuilder, toModelProto } from '@emoverse/onnx';
import * as ort from 'onnxruntime-node';
import type { EpName, EpProbe } from './ep.js';
import { DEFAULT_EP_ORDER, epConfig, selectExecutionProvider } from './ep.js';

export interface SessionOptions {
  /** One EP, or a preference list probed in order (default cuda → webgpu → cpu). */
  ep?: EpName | readonly EpName[];
  /** Threads for one op (ORT intra-op pool). Default: ORT's choice (all cores). */
  intraOpThreads?: number;
  interOpThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Keep these outputs (or all, with true) on the device between runs: on WebGPU they come
   * back as 'gpu-buffer' tensors and carried state never crosses the bus. Ignored on CPU
   * and CUDA.
   */
  keepOnDevice?: boolean | readonly string[];
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * Whether idle intra-op threads spin (ORT's default, lowest latency on a dedicated machine).
   * On a shared or oversubscribed machine spinning burns the cores other work needs.
   */
  allowSpinning?: boolean;
}

export type ModelSource = Uint8Array | SerializedModel | GraphBuilder;

/** A plain, structured-clone-friendly tensor (for worker threads and user code). */
export interface HostTensor {
  dtype: ort.Tensor.Type;
  dims: readonly number[];
  data: ort.Tensor.DataType;
}

export function toOrtTensor(t: HostTensor | ort.Tensor): ort.Tensor {
  if (!('dtype' in t)) return t;
  return new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims);
}

function serialized(model: ModelSource): SerializedModel {
  if (model instanceof Uint8Array) return { model, externalData: [] };
  if ('model' in model && model.model instanceof Uint8Array) return model as SerializedModel;
  return toModelProto(model as GraphBuilder);
}

export class Session {
  private readonly state = new Map<string, ort.Tensor>();
  private carry = new Map<string, string>();

  private constructor(
    readonly ort: ort.InferenceSession,
    readonly ep: EpName,
    readonly probes: EpProbe[],
  ) {}

  static async create(model: ModelSource, opts: SessionOptions = {}): Promise<Session> {
    const order = typeof opts.ep === 'string' ? [opts.ep] : (opts.ep ?? DEFAULT_EP_ORDER);
    const { ep, probes } = await selectExecutionProvider(order);
    const { model: bytes, externalData } = serialized(model);
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [epConfig(ep)],
      logSeverityLevel: opts.logSeverityLevel ?? 3,
    };
    if (opts.intraOpThreads !== undefined) options.intraOpNumThreads = opts.intraOpThreads;
    if (opts.interOpThreads !== undefined) options.interOpNumThreads = opts.interOpThreads;
    if (opts.graphOptimizationLevel) options.graphOptimizationLevel = opts.graphOptimizationLevel;
    if (externalData.length) options.externalData = externalData;
    if (opts.allowSpinning !== undefined)
      options.extra = { session: { intra_op: { allow_spinning: opts.allowSpinning ? '1' : '0' } } };
    // onnxruntime-node places outputs in device buffers for WebGPU only; CUDA outputs come
    // back to the CPU (its IO binding is not exposed to JS).
    if (opts.keepOnDevice && ep === 'webgpu') {
      options.preferredOutputLocation =
        opts.keepOnDevice === true
          ? 'gpu-buffer'
          : Object.fromEntries(opts.keepOnDevice.map((n) => [n, 'gpu-buffer' as const]));
    }
    const session = await ort.InferenceSession.create(bytes, options);
    return new Session(session, ep, probes);
  }

  get inputNames(): readonly string[] {
    return this.ort.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.ort.outputNames;
  }

  /** Plain run: all outputs (or those in `fetch`), in whatever location ORT gives them. */
  async run(
    feeds: Record<string, HostTensor | ort.Tensor>,
    fetch?: readonly string[],
  ): Promise<Record<string, ort.Tensor>> {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = toOrtTensor(v);
    return fetch ? this.ort.run(f, [...fetch]) : this.ort.run(f);
  }

  /**
   * Sets carried state: `initial` feeds these inputs on the next run, and `carry` maps an
   * output name to the input it replaces afterwards (e.g. 'w.new' -> 'w').
   */
  setState(initial: Record<string, HostTensor | ort.Tensor>, carry: Record<string, string>): void {
    for (const t of this.state.values()) if (t.location === 'gpu-buffer') t.dispose();
    this.state.clear();
    for (const [k, v] of Object.entries(initial)) this.state.set(k, toOrtTensor(v));
    this.carry = new Map(Object.entries(carry));
  }

  /**
   * Runs with the carried state plus `feeds`; carried outputs replace their inputs, the
   * `fetch` outputs come back as CPU tensors. If `commit` returns false for the fetched
   * values (e.g. a NaN loss), the state is left as it was.
   */
  async step(
    feeds: Record<string, HostTensor | ort.Tensor>,
    fetch: readonly string[],
    commit: (fetched: Record<string, ort.Tensor>) => boolean = () => true,
  ): Promise<Record<string, ort.Tensor>> {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of this.state) f[k] = v;
    for (const [k, v] of Object.entries(feeds)) f[k] = toOrtTensor(v);
    const names = [...new Set([...fetch, ...this.carry.keys()])];
    const out = await this.ort.run(f, names);
    const fetched: Record<string, ort.Tensor> = {};
    for (const n of fetch) fetched[n] = await downloaded(out[n], this.ep);
    const ok = commit(fetched);
    for (const [outName, inName] of this.carry) {
      const t = out[outName];
      if (!ok) {
        if (t.location === 'gpu-buffer') t.dispose();
        continue;
      }
      const old = this.state.get(inName);
      if (old && old.location === 'gpu-buffer') old.dispose();
      this.state.set(inName, t);
    }
    return fetched;
  }

  /** The current carried state, copied to the CPU (for checkpoints). */
  async readState(names?: readonly string[]): Promise<Record<string, HostTensor>> {
    const out: Record<string, HostTensor> = {};
    for (const [k, v] of this.state) {
      if (names && !names.includes(k)) continue;
      const t = await downloaded(v, this.ep);
      out[k] = { dtype: t.type, dims: t.dims, data: t.data };
    }
    return out;
  }

  /** Where each carried value lives now: 'cpu', or 'gpu-buffer' when it stayed on the device. */
  stateLocations(): Record<string, string> {
    return Object.fromEntries([...this.state].map(([k, v]) => [k, v.location]));
  }

  /** A copy of `t` on the CPU (device tensors are downloaded; CPU tensors returned as is). */
  toCpu(t: ort.Tensor): Promise<ort.Tensor> {
    return downloaded(t, this.ep);
  }

  async release(): Promise<void> {
    for (const t of this.state.values()) if (t.location === 'gpu-buffer') t.dispose();
    this.state.clear();
    await this.ort.release();
  }
}

/**
 * Copies a device tensor to the CPU. onnxruntime-node 1.30's `Tensor.getData()` on a WebGPU
 * 'gpu-buffer' tensor aborts the process (an uncaught native exception), so the copy is an
 * Identity run on the same EP whose output ORT places on the CPU, as it does by default.
 * One such session per (dtype, rank), shared by every Session of the process.
 */
const downloaders = new Map<string, Promise<ort.InferenceSession>>();

async function downloaded(t: ort.Tensor, ep: EpName): Promise<ort.Tensor> {
  if (t.location === 'cpu') return t;
  if (ep !== 'webgpu') {
    const data = await t.getData();
    return new ort.Tensor(t.type as 'float32', data as Float32Array, t.dims);
  }
  const key = `${t.type}/${t.dims.length}`;
  let session = downloaders.get(key);
  if (!session) {
    const g = new GraphBuilder(`download_${t.type}_${t.dims.length}`);
    const x = g.input(
      'x',
      t.type as DType,
      t.dims.map((_, i) => `d${i}`),
    );
    g.output(g.identity(x), 'y');
    session = ort.InferenceSession.create(toModelProto(g).model, {
      executionProviders: [epConfig(ep)],
      logSeverityLevel: 3,
    });
    downloaders.set(key, session);
  }
  const out = await (await session).run({ x: t });
  return out.y;
}
