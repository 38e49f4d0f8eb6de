// Facial action units: the 17 intensities, S_f, peak frames per person and across people, FER captions

export { ESTIMATE_GAIN, FIT_CLIPS, POPULATION_BASELINE } from './private/calibration.js';
export {
  type AuEmotionTable,
  auCommon,
  auEmotion,
  auFrame,
  type FerCaption,
  ferCaption,
  loadAuEmotionTable,
} from './private/caption.js';
export { CLAIMED_AUS } from './private/claimed.js';
export {
  type AuAgreement,
  type ClipEvaluation,
  type Comparison,
  compareWithOpenFace,
  evaluateAgainstOpenFace,
  mainFaceId,
  matchingPerson,
  meanAbsoluteError,
  openFacePeak,
  pearson,
} from './private/compare.js';
export {
  AU_RULES,
  type AuRule,
  type Baseline,
  type BaselineOptions,
  intensities,
  neutralBaseline,
  ruleValue,
} from './private/intensity.js';
export { faceMeasures, MEASURE_NAMES, type MeasureName, type Measures } from './private/measures.js';
export {
  OPENFACE_HEADER,
  type OpenFaceRow,
  readOpenFaceCsv,
  toOpenFaceRows,
  writeOpenFaceCsv,
} from './private/openface-csv.js';
export {
  type AuAnalysis,
  type AuFrame,
  type ExclusionOptions,
  exclusionReason,
  type NoPeakReason,
  noPeakReason,
  type PersonPeak,
  type ScoreOptions,
  scoreAus,
  sumAus,
} from './private/peaks.js';
export {
  AU_NAMES,
  type AuName,
  type AuVector,
  EXPRESSION_NAMES,
  type ExpressionName,
  type FaceGeometry,
  type FrameGeometry,
  type HeadPose,
  type Point,
  zeroAus,
} from './private/types.js';
