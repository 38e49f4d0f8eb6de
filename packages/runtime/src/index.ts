// ONNX Runtime sessions: execution-provider probing, worker threads, device-resident parameters
export {};
