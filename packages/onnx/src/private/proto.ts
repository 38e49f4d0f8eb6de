// onnx-proto is a CommonJS module whose named export Node's ESM loader cannot see;
// load it through the default export and re-export the namespace with its types.
import onnxProto from 'onnx-proto';

export const onnx: typeof import('onnx-proto').onnx = (
  onnxProto as unknown as { onnx: typeof import('onnx-proto').onnx }
).onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';
