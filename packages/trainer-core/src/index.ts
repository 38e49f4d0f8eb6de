// The trainer's runs, one road for the trainer service and `npm run experiment`: planRun (recipe, EMT data,
// stage plans, base checkpoint checked) -> trainRun (base model, M2SE recipe, saved model folder) -> evaluation
// through the gateway's serving code, with baselines -> results table and plots

export {
  type BaseModelOptions,
  baseModel,
  checkBaseCheckpoint,
  checkDevice,
  type ExecutionProvider,
  FROM_SCRATCH,
} from './private/base-model.js';
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
export { nanoModel, nanoSize, tokenizerCorpus } from './private/nano.js';
export { type PlanInput, type PlannedRun, planRun, type RunPlan } from './private/plan.js';
export { DeviceUnavailable, RunRejected } from './private/rejected.js';
export { RELEASE_FILE, type Release, releaseOf, verifyRelease, writeRelease } from './private/release.js';
export {
  type Estimate,
  ecpeReport,
  METRICS,
  type MetricKey,
  type RunScores,
  scoreAnswers,
} from './private/scores.js';
export { type TrainRunOptions, type TrainRunResult, trainRun } from './private/train-run.js';
