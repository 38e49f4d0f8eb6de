// Reverse-mode autodiff over ONNX graphs, and optimizers (AdamW, SGD) inside the graph
export {};
