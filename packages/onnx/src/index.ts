// ONNX graph builder: typed nodes, initializers, shapes and dtypes, ModelProto serialization
export type { AttrValue, GraphNode, Initializer, OutputSpec } from './private/builder.js';
export { attr, GraphBuilder, MS_DOMAIN, OPSET } from './private/builder.js';
export type { DType, TensorData } from './private/dtype.js';
export {
  BYTES_PER_ELEMENT,
  bfloat16BitsToNumber,
  float16BitsToNumber,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  isFloat,
  ONNX_DTYPE,
  toTypedArray,
} from './private/dtype.js';
export { dumpGraph } from './private/dump.js';
export type { SerializedModel, SerializeOptions } from './private/serialize.js';
export { toModelProto } from './private/serialize.js';
export type { Dim, Shape } from './private/shape.js';
export { broadcastShapes, isStatic, numel, shapeToString } from './private/shape.js';
export { Tensor } from './private/tensor.js';
