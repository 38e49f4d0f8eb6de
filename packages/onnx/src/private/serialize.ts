// GraphBuilder -> ONNX ModelProto bytes (onnx-proto's generated protobufjs classes).
import type { onnx as P } from 'onnx-proto';
import type { AttrValue, GraphBuilder, Initializer } from './builder.js';
import { ONNX_DTYPE } from './dtype.js';
import { onnx } from './proto.js';
import type { Tensor } from './tensor.js';

export interface SerializeOptions {
  /**
   * Initializers with at least this many bytes are written as ONNX external data instead of
   * inside the protobuf (default 1 MiB; Infinity keeps everything inline). Protobuf caps a
   * message at 2 GB, and keeping weights outside also avoids one more copy of them.
   */
  externalDataThreshold?: number;
  /** Base name of the external data files (`<base>.<k>`, one per big tensor). */
  externalDataFile?: string;
  producerName?: string;
}

export interface SerializedModel {
  /** ModelProto bytes. */
  model: Uint8Array;
  /**
   * External data files the model refers to. Pass them to onnxruntime-node as
   * `sessionOptions.externalData` ({ path, data }), or write them beside the model file.
   */
  externalData: { path: string; data: Uint8Array }[];
}

/** ONNX IR version of the onnx-proto schema (onnx 1.10); ORT 1.30 reads it with opset 18. */
const IR_VERSION = 8;

export function toModelProto(g: GraphBuilder, opts: SerializeOptions = {}): SerializedModel {
  const threshold = opts.externalDataThreshold ?? 1 << 20;
  const extBase = opts.externalDataFile ?? `${g.name}.onnx.data`;
  const externalData: SerializedModel['externalData'] = [];

  const initializer = (init: Initializer): P.ITensorProto => {
    const t = init.tensor;
    const bytes = new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength);
    const proto: P.ITensorProto = {
      name: t.name,
      dataType: ONNX_DTYPE[t.dtype],
      dims: t.shape.map(Number),
    };
    if (bytes.byteLength >= threshold) {
      // One external "file" per big tensor, whose data is a view of the caller's array: the
      // weights are not copied in JS (ORT takes them from memory via sessionOptions.externalData).
      const path = `${extBase}.${externalData.length}`;
      proto.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      proto.externalData = [
        { key: 'location', value: path },
        { key: 'offset', value: '0' },
        { key: 'length', value: String(bytes.byteLength) },
      ];
      externalData.push({ path, data: bytes });
    } else {
      proto.rawData = bytes;
    }
    return proto;
  };

  const graph: P.IGraphProto = {
    name: g.name,
    node: g.nodes.map((n) => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain,
      input: n.inputs.map((t) => t?.name ?? ''),
      output: n.outputs.map((t) => t.name),
      attribute: Object.entries(n.attrs).map(([name, a]) => attribute(name, a)),
    })),
    initializer: [
      ...[...g.initializers.values()].map(initializer),
      ...[...g.fileInitializers.values()].map(
        (f): P.ITensorProto => ({
          name: f.tensor.name,
          dataType: ONNX_DTYPE[f.tensor.dtype],
          dims: f.tensor.shape.map(Number),
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: f.location },
            { key: 'offset', value: String(f.offset) },
            { key: 'length', value: String(f.length) },
          ],
        }),
      ),
    ],
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
  };
  const model: P.IModelProto = {
    irVersion: IR_VERSION,
    producerName: opts.producerName ?? '@emoverse/onnx',
    opsetImport: [...g.opsetImports].map(([domain, version]) => ({ domain, version })),
    graph,
  };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  return { model: bytes, externalData };
}

function valueInfo(t: Tensor): P.IValueInfoProto {
  return {
    name: t.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[t.dtype],
        shape: { dim: t.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, a: AttrValue): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}
