// The trainer's runs: EMT data -> model -> M2SE recipe -> saved model -> evaluation through the
// gateway's serving code, with baselines -> results table and plots (npm run experiment)
export { type BaselineAnswers, type BaselineName, baselineAnswers } from './private/baselines.js';
export { ensureEmt, loadTrainData, type TrainData } from './private/data.js';
export {
  type EvalAnswer,
  type EvalOptions,
  type EvalRecords,
  type EvalSplit,
  type EvalTask,
  evaluateModelDir,
  servingEngine,
  splitRecords,
} from './private/evaluate.js';
export {
  type ExperimentOptions,
  type ExperimentResult,
  isExperimentName,
  lossPlotPng,
  type RunRecord,
  runExperiment,
} from './private/experiment.js';
export { nanoModel, tokenizerCorpus } from './private/nano.js';
export {
  type Estimate,
  ecpeReport,
  METRICS,
  type MetricKey,
  type RunScores,
  scoreAnswers,
} from './private/scores.js';
