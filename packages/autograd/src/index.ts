// Reverse-mode autodiff over ONNX graphs, and optimizers (AdamW, SGD) inside the graph
export type { GradientOptions } from './private/grad.js';
export { gradients } from './private/grad.js';
export type { Vjp, VjpContext } from './private/vjps.js';
export { VJPS } from './private/vjps.js';
