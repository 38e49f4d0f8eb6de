// The paper's metrics: Acc-2 (both conventions), F1, weighted F1, ECPE pair F1, tolerant answer parsing;
// baselines to read them against (majority class, positional ECPE, a bag-of-words classifier) and bootstrap
// confidence intervals.
export {
  type ErBaseline,
  erMajorityBaseline,
  majorityClass,
  msaMajorityBaseline,
} from './private/baselines.js';
export {
  type BootstrapInterval,
  type BootstrapOptions,
  bootstrapInterval,
} from './private/bootstrap.js';
export {
  type BowClassifier,
  type BowClassifierOptions,
  type BowTraining,
  trainBowClassifier,
} from './private/bow-classifier.js';
export {
  type ClassificationReport,
  type ClassScore,
  classificationReport,
} from './private/classification.js';
export { type EcpeDocument, type EcpeReport, ecpeScores, type Prf } from './private/ecpe.js';
export {
  type EcpePositionalBaseline,
  type EcpeTargetRecord,
  ecpeBaselineAnswer,
  ecpeBaselineAnswers,
} from './private/ecpe-baselines.js';
export { type EcpePaperRecord, ecpePaperScores } from './private/ecpe-paper.js';
export { type ErReport, erScores, erScoresFromText } from './private/er.js';
export { MELD_EMOTIONS, type MeldEmotion, SENTIMENTS, type Sentiment } from './private/labels.js';
export { type Acc2, type MsaReport, msaScores, msaScoresFromText, sentimentScore } from './private/msa.js';
export {
  type EcpePair,
  type ParsedSentiment,
  parseEcpePairs,
  parseEmotion,
  parseSentiment,
} from './private/parse.js';
export { mulberry32, mulberry32Step } from './private/random.js';
