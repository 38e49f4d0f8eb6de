// ONNX Runtime sessions: execution-provider probing, worker threads, device-resident parameters
export * as ort from 'onnxruntime-node';
export type { EpName, EpProbe } from './private/ep.js';
export {
  DEFAULT_EP_ORDER,
  EP_NAMES,
  isEpName,
  parseEpList,
  probeExecutionProvider,
  selectExecutionProvider,
} from './private/ep.js';
export type { HostTensor, ModelSource, SessionOptions } from './private/session.js';
export { Session, toOrtTensor } from './private/session.js';
export type { StepOptions } from './private/worker-session.js';
export { WorkerSession } from './private/worker-session.js';
