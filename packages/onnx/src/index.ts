// ONNX graph builder: typed nodes, initializers, shapes and dtypes, ModelProto serialization
export {};
