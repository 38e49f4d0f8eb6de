// Reverse-mode autodiff over ONNX graphs, and optimizers (AdamW, SGD) inside the graph
export type { GradientOptions } from './private/grad.js';
export { gradients } from './private/grad.js';
export type { CheckInput, GradCheckResult } from './private/gradcheck.js';
export { gradCheck, rng } from './private/gradcheck.js';
export type { AdamWConfig, OptimizerConfig, SgdConfig } from './private/optim.js';
export { adamw, applyOptimizer, clipByGlobalNorm, globalNorm, optimizerSlots, sgd } from './private/optim.js';
export { mulberry32 } from './private/random.js';
export type { GptConfig } from './private/reference-gpt.js';
export { gptForward, gptInitParams, gptParamShapes } from './private/reference-gpt.js';
export type { ParamSpec, TrainStep, TrainStepSpec } from './private/train-step.js';
export { buildTrainStep, NEXT } from './private/train-step.js';
export type { StepResult, TrainerOptions } from './private/trainer.js';
export { NonFiniteLossError, Trainer } from './private/trainer.js';
export type { Vjp, VjpContext } from './private/vjps.js';
export { VJPS } from './private/vjps.js';
