// The trainer's runs: EMT data -> model -> M2SE recipe -> evaluation -> results table and plots
export { loadTrainData, type TrainData } from './private/data.js';
export {
  type EvalModel,
  type EvalOptions,
  type EvalReport,
  evaluateOnEmt,
  majorityBaselineRows,
  PAPER_REFERENCE,
  resultRow,
} from './private/evaluate.js';
export {
  type ExperimentOptions,
  type ExperimentResult,
  ensureEmt,
  isExperimentName,
  lossPlotPng,
  runExperiment,
} from './private/experiment.js';
