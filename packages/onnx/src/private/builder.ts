// The typed graph builder. Every op helper checks dtypes and infers the output shape, so
// autodiff (which needs shapes to undo broadcasting) and the models' code both see typed
// handles. Errors name the op and the tensors involved.
import type { DType, TensorData } from './dtype.js';
import { BYTES_PER_ELEMENT, dtypeOfData, isFloat, ONNX_DTYPE, toTypedArray } from './dtype.js';
import type { Dim, Shape } from './shape.js';
import { broadcastShapes, normAxis, numel, shapeToString } from './shape.js';
import { Tensor } from './tensor.js';

/**
 * The opset every graph uses: ONNX default domain 18.
 * - 17 is the first with LayerNormalization (fused, fast on CPU and WebGPU).
 * - 18 makes `axes` an input for every ReduceX (not only ReduceSum), so all reductions
 *   are emitted the same way, and Split takes its sizes as an input.
 * - onnxruntime-node 1.30 implements all of 18 on CPU and the ops the models use on WebGPU.
 * Ops from Microsoft's contrib domain may be added per node (domain 'com.microsoft', opset 1).
 */
export const OPSET = 18;
export const MS_DOMAIN = 'com.microsoft';

export type AttrValue =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: readonly number[] }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'string'; value: string };

/** Attribute constructors, because JS numbers do not say int or float. */
export const attr = {
  int: (value: number): AttrValue => ({ type: 'int', value }),
  float: (value: number): AttrValue => ({ type: 'float', value }),
  ints: (value: readonly number[]): AttrValue => ({ type: 'ints', value }),
  floats: (value: readonly number[]): AttrValue => ({ type: 'floats', value }),
  string: (value: string): AttrValue => ({ type: 'string', value }),
};

export interface GraphNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** Inputs in ONNX order; `undefined` is an omitted optional input. */
  readonly inputs: readonly (Tensor | undefined)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export interface Initializer {
  readonly tensor: Tensor;
  readonly data: Exclude<TensorData, number[]>;
}

/**
 * An initializer whose bytes stay in a file (ONNX external data), e.g. a tensor inside a
 * safetensors shard. `location` is relative to the folder the model is loaded from.
 */
export interface FileInitializer {
  readonly tensor: Tensor;
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

export interface OutputSpec {
  dtype: DType;
  shape: Shape;
}

type Operand = Tensor | number;

export class GraphBuilder {
  readonly inputs: Tensor[] = [];
  readonly outputs: Tensor[] = [];
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  /** Initializers read by ORT from files (see fileInitializer). */
  readonly fileInitializers = new Map<string, FileInitializer>();
  /** Tensor name -> the node that produces it. */
  readonly producers = new Map<string, GraphNode>();
  readonly opsetImports = new Map<string, number>([['', OPSET]]);
  private readonly names = new Set<string>();
  private readonly consts = new Map<string, Tensor>();
  private counter = 0;
  private scopes: string[] = [];

  constructor(readonly name: string) {}

  // ---------------------------------------------------------------- graph interface

  /** A graph input. String dims are symbolic ('batch', 'seq'). */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    this.claim(name);
    const t = new Tensor(name, dtype, [...shape], 'input');
    this.inputs.push(t);
    return t;
  }

  /**
   * A constant weight stored in the model. Big ones are written as ONNX external data at
   * serialization (see toModelProto), so a model never hits protobuf's 2 GB limit.
   */
  initializer(name: string, data: TensorData, shape: readonly number[], dtype?: DType): Tensor {
    const dt = dtype ?? dtypeOfData(data);
    const typed = toTypedArray(data, dt);
    const n = numel(shape) ?? 0;
    if (typed.length !== n)
      throw new Error(`initializer ${name}: ${typed.length} values for shape ${shapeToString(shape)} (${n})`);
    this.claim(name);
    const t = new Tensor(name, dt, [...shape], 'initializer');
    this.initializers.set(name, { tensor: t, data: typed });
    return t;
  }

  /**
   * A constant weight that ORT reads from a file beside the model (bytes [offset, offset+length)
   * of `location`), so that big checkpoints are never copied into JS memory. The model must then
   * be loaded from a path in the folder holding `location`.
   */
  fileInitializer(
    name: string,
    dtype: DType,
    shape: readonly number[],
    ref: { location: string; offset: number; length: number },
  ): Tensor {
    const bytes = (numel(shape) ?? 0) * BYTES_PER_ELEMENT[dtype];
    if (ref.length !== bytes)
      throw new Error(
        `file initializer ${name}: ${ref.length} bytes for ${dtype}${shapeToString(shape)} (${bytes})`,
      );
    this.claim(name);
    const t = new Tensor(name, dtype, [...shape], 'initializer');
    this.fileInitializers.set(name, { tensor: t, ...ref });
    return t;
  }

  /** Marks `t` as a graph output; with a different `name` an Identity gives it that name. */
  output(t: Tensor, name?: string): Tensor {
    let out = t;
    if (name !== undefined && name !== t.name) {
      out = this.addNode('Identity', [t], {}, [{ dtype: t.dtype, shape: t.shape }], '', [name])[0];
    }
    if (this.outputs.some((o) => o.name === out.name))
      throw new Error(`output ${out.name} is declared twice`);
    this.outputs.push(out);
    return out;
  }

  /** Runs `fn` with node names prefixed by `prefix/` (readable dumps: layer0/attn/MatMul_3). */
  scope<T>(prefix: string, fn: () => T): T {
    this.scopes.push(prefix);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** A fresh value name with the current scope. */
  fresh(base: string): string {
    const prefix = this.scopes.length ? `${this.scopes.join('/')}/` : '';
    let name: string;
    do name = `${prefix}${base}_${this.counter++}`;
    while (this.names.has(name));
    return name;
  }

  hasName(name: string): boolean {
    return this.names.has(name);
  }

  /**
   * Adds any node. Output dtypes and shapes must be given, since the builder cannot infer
   * them for arbitrary ops. This is the escape hatch for ops without a helper (e.g. contrib ops).
   */
  node(
    opType: string,
    inputs: readonly (Tensor | undefined)[],
    attrs: Record<string, AttrValue>,
    outputs: readonly OutputSpec[],
    domain = '',
    outputNames?: readonly string[],
  ): Tensor[] {
    if (domain && !this.opsetImports.has(domain)) this.opsetImports.set(domain, 1);
    return this.addNode(opType, inputs, attrs, outputs, domain, outputNames);
  }

  // ---------------------------------------------------------------- constants

  /**
   * A constant (stored as an initializer, deduplicated by content). A number gives a scalar
   * (shape []), an array gives a 1-D tensor unless `shape` says otherwise.
   */
  constant(value: number | TensorData, dtype: DType = 'float32', shape?: readonly number[]): Tensor {
    const data = typeof value === 'number' ? [value] : value;
    const typed = toTypedArray(data, dtype);
    const shp = shape ?? (typeof value === 'number' ? [] : [typed.length]);
    const key = `${dtype}|${shp.join(',')}|${Array.from(typed as ArrayLike<number | bigint>, String).join(',')}`;
    const cached = key.length < 512 ? this.consts.get(key) : undefined;
    if (cached) return cached;
    const t = this.initializer(this.freshGlobal('const'), typed, shp, dtype);
    if (key.length < 512) this.consts.set(key, t);
    return t;
  }

  /** An int64 1-D constant, for shapes, axes, starts/ends. */
  int64s(values: readonly number[]): Tensor {
    return this.constant([...values], 'int64', [values.length]);
  }

  // ---------------------------------------------------------------- elementwise

  add(a: Operand, b: Operand): Tensor {
    return this.binary('Add', a, b);
  }
  sub(a: Operand, b: Operand): Tensor {
    return this.binary('Sub', a, b);
  }
  mul(a: Operand, b: Operand): Tensor {
    return this.binary('Mul', a, b);
  }
  div(a: Operand, b: Operand): Tensor {
    return this.binary('Div', a, b);
  }
  pow(a: Operand, b: Operand): Tensor {
    return this.binary('Pow', a, b);
  }
  /** Elementwise max of two tensors (ONNX Max, broadcasting). */
  max(a: Operand, b: Operand): Tensor {
    return this.binary('Max', a, b);
  }
  min(a: Operand, b: Operand): Tensor {
    return this.binary('Min', a, b);
  }
  equal(a: Operand, b: Operand): Tensor {
    return this.binary('Equal', a, b, 'bool');
  }
  less(a: Operand, b: Operand): Tensor {
    return this.binary('Less', a, b, 'bool');
  }
  greater(a: Operand, b: Operand): Tensor {
    return this.binary('Greater', a, b, 'bool');
  }
  and(a: Tensor, b: Tensor): Tensor {
    return this.binary('And', a, b, 'bool');
  }
  not(x: Tensor): Tensor {
    return this.unary('Not', x);
  }
  isNaN(x: Tensor): Tensor {
    return this.addNode('IsNaN', [x], {}, [{ dtype: 'bool', shape: x.shape }])[0];
  }
  isInf(x: Tensor): Tensor {
    return this.addNode('IsInf', [x], {}, [{ dtype: 'bool', shape: x.shape }])[0];
  }

  neg(x: Tensor): Tensor {
    return this.unary('Neg', x);
  }
  abs(x: Tensor): Tensor {
    return this.unary('Abs', x);
  }
  sqrt(x: Tensor): Tensor {
    return this.unary('Sqrt', x);
  }
  reciprocal(x: Tensor): Tensor {
    return this.unary('Reciprocal', x);
  }
  exp(x: Tensor): Tensor {
    return this.unary('Exp', x);
  }
  log(x: Tensor): Tensor {
    return this.unary('Log', x);
  }
  tanh(x: Tensor): Tensor {
    return this.unary('Tanh', x);
  }
  sigmoid(x: Tensor): Tensor {
    return this.unary('Sigmoid', x);
  }
  erf(x: Tensor): Tensor {
    // ORT's CPU EP has no float64 Erf kernel: compute it in float32 between two Casts.
    if (x.dtype === 'float64') return this.cast(this.unary('Erf', this.cast(x, 'float32')), 'float64');
    return this.unary('Erf', x);
  }
  relu(x: Tensor): Tensor {
    return this.unary('Relu', x);
  }
  identity(x: Tensor): Tensor {
    return this.unary('Identity', x);
  }

  /** x * sigmoid(x) (SiLU / swish, Llama's MLP activation). */
  silu(x: Tensor): Tensor {
    return this.mul(x, this.sigmoid(x));
  }

  /**
   * GELU as a decomposition of ordinary ops, so autodiff and every EP handle it:
   * exact: 0.5·x·(1 + erf(x/√2)); 'tanh': 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
   */
  gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
    let inner: Tensor;
    if (approximate === 'tanh') {
      const x3 = this.mul(this.mul(x, x), x);
      inner = this.tanh(this.mul(this.add(x, this.mul(x3, 0.044715)), Math.sqrt(2 / Math.PI)));
    } else {
      inner = this.erf(this.mul(x, Math.SQRT1_2));
    }
    return this.mul(this.mul(x, 0.5), this.add(inner, 1));
  }

  where(cond: Tensor, a: Operand, b: Operand): Tensor {
    const ref = a instanceof Tensor ? a : b instanceof Tensor ? b : undefined;
    const dtype = ref?.dtype ?? 'float32';
    const ta = this.operand(a, dtype);
    const tb = this.operand(b, dtype);
    if (cond.dtype !== 'bool')
      throw new Error(`Where: condition ${cond.name} must be bool, not ${cond.dtype}`);
    this.sameDtype('Where', ta, tb);
    const shape = broadcastShapes([cond.shape, ta.shape, tb.shape], [cond.name, ta.name, tb.name], 'Where');
    return this.addNode('Where', [cond, ta, tb], {}, [{ dtype, shape }])[0];
  }

  cast(x: Tensor, to: DType): Tensor {
    return this.addNode('Cast', [x], { to: attr.int(ONNX_DTYPE[to]) }, [{ dtype: to, shape: x.shape }])[0];
  }

  // ---------------------------------------------------------------- linear algebra

  /** numpy.matmul semantics: batch dims broadcast, 1-D operands promoted and squeezed. */
  matmul(a: Tensor, b: Tensor): Tensor {
    this.sameDtype('MatMul', a, b);
    if (a.rank === 0 || b.rank === 0) throw new Error(`MatMul: ${a} and ${b} must not be scalars`);
    const as = a.rank === 1 ? [1, a.shape[0]] : [...a.shape];
    const bs = b.rank === 1 ? [b.shape[0], 1] : [...b.shape];
    const k1 = as[as.length - 1];
    const k2 = bs[bs.length - 2];
    if (k1 !== k2) throw new Error(`MatMul: inner dims differ: ${a} and ${b} (${k1} vs ${k2})`);
    const batch = broadcastShapes([as.slice(0, -2), bs.slice(0, -2)], [a.name, b.name], 'MatMul');
    const shape: Dim[] = [...batch];
    if (a.rank !== 1) shape.push(as[as.length - 2]);
    if (b.rank !== 1) shape.push(bs[bs.length - 1]);
    return this.addNode('MatMul', [a, b], {}, [{ dtype: a.dtype, shape }])[0];
  }

  /** Y = alpha·op(A)·op(B) + beta·C for 2-D A, B (C broadcast to Y). */
  gemm(
    a: Tensor,
    b: Tensor,
    c?: Tensor,
    opts: { alpha?: number; beta?: number; transA?: boolean; transB?: boolean } = {},
  ): Tensor {
    this.sameDtype('Gemm', a, b);
    if (a.rank !== 2 || b.rank !== 2) throw new Error(`Gemm: ${a} and ${b} must be 2-D`);
    const [m, k1] = opts.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const [k2, n] = opts.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
    if (k1 !== k2) throw new Error(`Gemm: inner dims differ: ${a} and ${b} (${k1} vs ${k2})`);
    if (c) {
      this.sameDtype('Gemm', a, c);
      const bc = broadcastShapes([[m, n], c.shape], [`Gemm(${a.name},${b.name})`, c.name], 'Gemm');
      if (bc.length !== 2 || bc[0] !== m || bc[1] !== n)
        throw new Error(`Gemm: ${c} does not broadcast to [${m}, ${n}]`);
    }
    const attrs: Record<string, AttrValue> = {};
    if (opts.alpha !== undefined) attrs.alpha = attr.float(opts.alpha);
    if (opts.beta !== undefined) attrs.beta = attr.float(opts.beta);
    if (opts.transA) attrs.transA = attr.int(1);
    if (opts.transB) attrs.transB = attr.int(1);
    return this.addNode('Gemm', c ? [a, b, c] : [a, b], attrs, [{ dtype: a.dtype, shape: [m, n] }])[0];
  }

  // ---------------------------------------------------------------- normalisation & softmax

  softmax(x: Tensor, axis = -1): Tensor {
    normAxis(axis, x.rank, `Softmax(${x.name})`);
    return this.addNode('Softmax', [x], { axis: attr.int(axis) }, [{ dtype: x.dtype, shape: x.shape }])[0];
  }

  logSoftmax(x: Tensor, axis = -1): Tensor {
    normAxis(axis, x.rank, `LogSoftmax(${x.name})`);
    return this.addNode('LogSoftmax', [x], { axis: attr.int(axis) }, [{ dtype: x.dtype, shape: x.shape }])[0];
  }

  /** ONNX LayerNormalization (opset 17) over the dims from `axis` on. */
  layerNorm(x: Tensor, scale: Tensor, bias?: Tensor, opts: { axis?: number; epsilon?: number } = {}): Tensor {
    const axis = normAxis(opts.axis ?? -1, x.rank, `LayerNormalization(${x.name})`);
    const normShape = x.shape.slice(axis);
    for (const p of bias ? [scale, bias] : [scale]) {
      this.sameDtype('LayerNormalization', x, p);
      broadcastShapes([normShape, p.shape], [`${x.name}[${axis}:]`, p.name], 'LayerNormalization');
    }
    const attrs = { axis: attr.int(axis), epsilon: attr.float(opts.epsilon ?? 1e-5) };
    return this.addNode('LayerNormalization', bias ? [x, scale, bias] : [x, scale], attrs, [
      { dtype: x.dtype, shape: x.shape },
    ])[0];
  }

  /** RMSNorm as a decomposition: x / sqrt(mean(x², -1) + eps) · scale (Llama). */
  rmsNorm(x: Tensor, scale: Tensor, epsilon = 1e-6): Tensor {
    const ms = this.reduceMean(this.mul(x, x), [-1], true);
    const inv = this.reciprocal(this.sqrt(this.add(ms, epsilon)));
    return this.mul(this.mul(x, inv), scale);
  }

  /**
   * SoftmaxCrossEntropyLoss (opset 13). scores [N, C] or [N, C, d1...], labels [N] or
   * [N, d1...] int64. Labels equal to `ignoreIndex` add nothing and do not count in the mean.
   */
  softmaxCrossEntropyLoss(
    scores: Tensor,
    labels: Tensor,
    opts: { ignoreIndex?: number; reduction?: 'mean' | 'sum' | 'none' } = {},
  ): Tensor {
    if (!isFloat(scores.dtype)) throw new Error(`SoftmaxCrossEntropyLoss: scores ${scores} must be float`);
    if (labels.dtype !== 'int64' && labels.dtype !== 'int32')
      throw new Error(`SoftmaxCrossEntropyLoss: labels ${labels} must be int64 or int32`);
    const expect = [scores.shape[0], ...scores.shape.slice(2)];
    if (labels.rank !== expect.length || labels.shape.some((d, i) => d !== expect[i]))
      throw new Error(
        `SoftmaxCrossEntropyLoss: labels ${labels} do not match scores ${scores} (expected ${shapeToString(expect)})`,
      );
    const reduction = opts.reduction ?? 'mean';
    const attrs: Record<string, AttrValue> = { reduction: attr.string(reduction) };
    if (opts.ignoreIndex !== undefined) attrs.ignore_index = attr.int(opts.ignoreIndex);
    const shape = reduction === 'none' ? expect : [];
    return this.addNode('SoftmaxCrossEntropyLoss', [scores, labels], attrs, [
      { dtype: scores.dtype, shape },
    ])[0];
  }

  // ---------------------------------------------------------------- reductions

  reduceSum(x: Tensor, axes: readonly number[], keepdims = true): Tensor {
    return this.reduce('ReduceSum', x, axes, keepdims);
  }
  reduceMean(x: Tensor, axes: readonly number[], keepdims = true): Tensor {
    return this.reduce('ReduceMean', x, axes, keepdims);
  }
  reduceMax(x: Tensor, axes: readonly number[], keepdims = true): Tensor {
    return this.reduce('ReduceMax', x, axes, keepdims);
  }

  /** Sum of all elements, as a scalar. */
  sumAll(x: Tensor): Tensor {
    return x.rank === 0
      ? x
      : this.reduceSum(
          x,
          x.shape.map((_, i) => i),
          false,
        );
  }

  // ---------------------------------------------------------------- shape ops

  /**
   * Reshape to `shape` (0 copies the input dim, -1 is inferred), or to the runtime value
   * of an int64 shape tensor, in which case `outShape` gives the static shape to track.
   */
  reshape(x: Tensor, shape: readonly number[] | Tensor, outShape?: Shape): Tensor {
    if (shape instanceof Tensor) {
      if (!outShape) throw new Error(`Reshape(${x.name}): a runtime shape tensor needs outShape`);
      return this.addNode('Reshape', [x, shape], {}, [{ dtype: x.dtype, shape: outShape }])[0];
    }
    const out = inferReshape(x, shape);
    return this.addNode('Reshape', [x, this.int64s(shape)], {}, [
      { dtype: x.dtype, shape: outShape ?? out },
    ])[0];
  }

  transpose(x: Tensor, perm?: readonly number[]): Tensor {
    const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
    if (p.length !== x.rank || [...p].sort((u, v) => u - v).some((v, i) => v !== i))
      throw new Error(`Transpose: perm [${p}] is not a permutation of the dims of ${x}`);
    const shape = p.map((i) => x.shape[i]);
    return this.addNode('Transpose', [x], { perm: attr.ints(p) }, [{ dtype: x.dtype, shape }])[0];
  }

  concat(xs: readonly Tensor[], axis: number): Tensor {
    if (xs.length === 0) throw new Error('Concat: no inputs');
    const first = xs[0];
    const ax = normAxis(axis, first.rank, `Concat(${first.name})`);
    let total: Dim = 0;
    for (const x of xs) {
      this.sameDtype('Concat', first, x);
      if (x.rank !== first.rank) throw new Error(`Concat: ranks differ: ${first} and ${x}`);
      x.shape.forEach((d, i) => {
        if (i !== ax && d !== first.shape[i])
          throw new Error(`Concat: ${first} and ${x} differ at dim ${i} (${first.shape[i]} vs ${d})`);
      });
      const d = x.shape[ax];
      total = typeof total === 'number' && typeof d === 'number' ? total + d : `${total}+${d}`;
    }
    const shape = [...first.shape];
    shape[ax] = total;
    return this.addNode('Concat', xs, { axis: attr.int(ax) }, [{ dtype: first.dtype, shape }])[0];
  }

  /** Splits `x` along `axis` into pieces of the given sizes. */
  split(x: Tensor, sizes: readonly number[], axis = 0): Tensor[] {
    const ax = normAxis(axis, x.rank, `Split(${x.name})`);
    const d = x.shape[ax];
    const sum = sizes.reduce((s, v) => s + v, 0);
    if (typeof d === 'number' && d !== sum)
      throw new Error(`Split: sizes [${sizes}] add to ${sum} but ${x} has ${d} at axis ${ax}`);
    const outs = sizes.map((s) => {
      const shape = [...x.shape];
      shape[ax] = s;
      return { dtype: x.dtype, shape };
    });
    return this.addNode('Split', [x, this.int64s(sizes)], { axis: attr.int(ax) }, outs);
  }

  /** ONNX Slice with constant starts/ends/axes/steps (ends may be large to mean "to the end"). */
  slice(
    x: Tensor,
    starts: readonly number[],
    ends: readonly number[],
    axes?: readonly number[],
    steps?: readonly number[],
  ): Tensor {
    const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, x.rank, `Slice(${x.name})`));
    const st = steps ?? starts.map(() => 1);
    if (ends.length !== starts.length || ax.length !== starts.length || st.length !== starts.length)
      throw new Error(`Slice(${x.name}): starts, ends, axes and steps must have the same length`);
    const shape = [...x.shape];
    ax.forEach((a, i) => {
      const d = x.shape[a];
      if (typeof d !== 'number') {
        shape[a] = `${d}[${starts[i]}:${ends[i]}:${st[i]}]`;
        return;
      }
      shape[a] = sliceLength(d, starts[i], ends[i], st[i]);
    });
    const inputs = [x, this.int64s(starts), this.int64s(ends), this.int64s(ax)];
    if (steps) inputs.push(this.int64s(st));
    return this.addNode('Slice', inputs, {}, [{ dtype: x.dtype, shape }])[0];
  }

  /** Gather along `axis`; with axis 0 and a [V, D] table this is an embedding lookup. */
  gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
    if (indices.dtype !== 'int64' && indices.dtype !== 'int32')
      throw new Error(`Gather: indices ${indices} must be int64 or int32`);
    const ax = normAxis(axis, data.rank, `Gather(${data.name})`);
    const shape = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
    return this.addNode('Gather', [data, indices], { axis: attr.int(ax) }, [{ dtype: data.dtype, shape }])[0];
  }

  /** Broadcast `x` to `shape` (numpy rules; the result may have more dims). */
  expand(x: Tensor, shape: readonly number[] | Tensor, outShape?: Shape): Tensor {
    if (shape instanceof Tensor) {
      if (!outShape) throw new Error(`Expand(${x.name}): a runtime shape tensor needs outShape`);
      return this.addNode('Expand', [x, shape], {}, [{ dtype: x.dtype, shape: outShape }])[0];
    }
    const out = broadcastShapes([x.shape, shape], [x.name, `target ${shapeToString(shape)}`], 'Expand');
    return this.addNode('Expand', [x, this.int64s(shape)], {}, [
      { dtype: x.dtype, shape: outShape ?? out },
    ])[0];
  }

  unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
    const rank = x.rank + axes.length;
    const ax = axes.map((a) => normAxis(a, rank, `Unsqueeze(${x.name})`)).sort((a, b) => a - b);
    const shape: Dim[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(ax.includes(i) ? 1 : x.shape[k++]);
    return this.addNode('Unsqueeze', [x, this.int64s(ax)], {}, [{ dtype: x.dtype, shape }])[0];
  }

  squeeze(x: Tensor, axes: readonly number[]): Tensor {
    const ax = axes.map((a) => normAxis(a, x.rank, `Squeeze(${x.name})`));
    for (const a of ax)
      if (x.shape[a] !== 1 && typeof x.shape[a] === 'number')
        throw new Error(`Squeeze: dim ${a} of ${x} is ${x.shape[a]}, not 1`);
    const shape = x.shape.filter((_, i) => !ax.includes(i));
    return this.addNode('Squeeze', [x, this.int64s(ax)], {}, [{ dtype: x.dtype, shape }])[0];
  }

  /** The runtime shape of `x` as an int64 1-D tensor (ONNX Shape, optional start/end). */
  shapeOf(x: Tensor, start?: number, end?: number): Tensor {
    const attrs: Record<string, AttrValue> = {};
    if (start !== undefined) attrs.start = attr.int(start);
    if (end !== undefined) attrs.end = attr.int(end);
    const s = start === undefined ? 0 : start < 0 ? Math.max(0, start + x.rank) : Math.min(start, x.rank);
    const e = end === undefined ? x.rank : end < 0 ? Math.max(0, end + x.rank) : Math.min(end, x.rank);
    return this.addNode('Shape', [x], attrs, [{ dtype: 'int64', shape: [Math.max(0, e - s)] }])[0];
  }

  // ---------------------------------------------------------------- internals

  private freshGlobal(base: string): string {
    let name: string;
    do name = `${base}_${this.counter++}`;
    while (this.names.has(name));
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`graph ${this.name}: the name ${name} is already used`);
    this.names.add(name);
  }

  private operand(v: Operand, dtype: DType): Tensor {
    return v instanceof Tensor ? v : this.constant(v, dtype);
  }

  private sameDtype(op: string, a: Tensor, b: Tensor): void {
    if (a.dtype !== b.dtype) throw new Error(`${op}: dtypes differ: ${a} and ${b}`);
  }

  private unary(op: string, x: Tensor): Tensor {
    return this.addNode(op, [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0];
  }

  private binary(op: string, a: Operand, b: Operand, outDtype?: DType): Tensor {
    if (!(a instanceof Tensor) && !(b instanceof Tensor))
      throw new Error(`${op}: one operand must be a tensor`);
    const dtype = a instanceof Tensor ? a.dtype : (b as Tensor).dtype;
    const ta = this.operand(a, dtype);
    const tb = this.operand(b, dtype);
    this.sameDtype(op, ta, tb);
    const shape = broadcastShapes([ta.shape, tb.shape], [ta.name, tb.name], op);
    return this.addNode(op, [ta, tb], {}, [{ dtype: outDtype ?? dtype, shape }])[0];
  }

  private reduce(op: string, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
    if (axes.length === 0) throw new Error(`${op}(${x.name}): give the axes to reduce`);
    const ax = axes.map((a) => normAxis(a, x.rank, `${op}(${x.name})`));
    const shape: Dim[] = [];
    x.shape.forEach((d, i) => {
      if (!ax.includes(i)) shape.push(d);
      else if (keepdims) shape.push(1);
    });
    return this.addNode(op, [x, this.int64s(ax)], { keepdims: attr.int(keepdims ? 1 : 0) }, [
      { dtype: x.dtype, shape },
    ])[0];
  }

  private addNode(
    opType: string,
    inputs: readonly (Tensor | undefined)[],
    attrs: Record<string, AttrValue>,
    outputs: readonly OutputSpec[],
    domain = '',
    outputNames?: readonly string[],
  ): Tensor[] {
    for (const t of inputs) {
      if (t && !this.names.has(t.name))
        throw new Error(`${opType}: input ${t.name} does not belong to graph ${this.name}`);
    }
    const nodeName = this.fresh(opType);
    const outs = outputs.map((o, i) => {
      const name = outputNames?.[i] ?? (outputs.length === 1 ? nodeName : `${nodeName}:${i}`);
      this.claim(name);
      return new Tensor(name, o.dtype, [...o.shape], 'node');
    });
    const node: GraphNode = { name: nodeName, opType, domain, inputs: [...inputs], outputs: outs, attrs };
    this.nodes.push(node);
    for (const o of outs) this.producers.set(o.name, node);
    return outs;
  }
}

function sliceLength(d: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  if (step > 0) {
    const s = clamp(start < 0 ? start + d : start, 0, d);
    const e = clamp(end < 0 ? end + d : end, 0, d);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  const s = clamp(start < 0 ? start + d : start, -1, d - 1);
  const e = clamp(end < 0 ? end + d : end, -1, d - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

function inferReshape(x: Tensor, shape: readonly number[]): Dim[] {
  const out: Dim[] = shape.map((v, i) => {
    if (v === 0) {
      if (i >= x.rank) throw new Error(`Reshape: 0 at position ${i} but ${x} has rank ${x.rank}`);
      return x.shape[i];
    }
    return v;
  });
  const minus = out.indexOf(-1);
  if (out.filter((v) => v === -1).length > 1) throw new Error(`Reshape(${x.name}): more than one -1`);
  const total = numel(x.shape);
  const known = out.reduce<number | undefined>(
    (p, v) => (p === undefined || typeof v !== 'number' ? undefined : v === -1 ? p : p * v),
    1,
  );
  if (minus >= 0) {
    if (total !== undefined && known !== undefined) {
      if (known === 0 || total % known !== 0) throw new Error(`Reshape: cannot reshape ${x} to [${shape}]`);
      out[minus] = total / known;
    } else {
      out[minus] = symbolicQuotient(x.shape, out) ?? `${x.name}_reshape_${minus}`;
    }
  } else if (total !== undefined && known !== undefined && total !== known) {
    throw new Error(`Reshape: cannot reshape ${x} (${total} elements) to [${shape}] (${known})`);
  }
  return out;
}

/** For -1 with symbolic dims: cancels equal factors, e.g. [batch, seq, 8] -> [-1, 8] gives 'batch*seq'. */
function symbolicQuotient(from: Shape, to: readonly Dim[]): Dim | undefined {
  let num = 1;
  const syms: string[] = [];
  for (const d of from) {
    if (typeof d === 'number') num *= d;
    else syms.push(d);
  }
  let den = 1;
  for (const d of to) {
    if (d === -1) continue;
    if (typeof d === 'number') den *= d;
    else {
      const k = syms.indexOf(d);
      if (k < 0) return undefined;
      syms.splice(k, 1);
    }
  }
  if (num % den !== 0) return undefined;
  const n = num / den;
  if (syms.length === 0) return n;
  return n === 1 ? syms.join('*') : [String(n), ...syms].join('*');
}
