// The EMT dataset: MELD/ECF/MOSEI loaders, five instruction tasks, ERI backends, quality control, shards
export { type BuildOptions, type BuildResult, buildEmt, loadSources } from './private/build.js';
export { type CsvRow, parseCsv } from './private/csv.js';
export { type EcfLinkStats, loadEcf1, parseEcfBlocks } from './private/ecf1.js';
export { loadEcf2, parseEcf2Json } from './private/ecf2.js';
export {
  chatCompletionsUrl,
  type EriGenerator,
  type EriInput,
  type EriTurn,
  eriPrompt,
  type FallbackStats,
  type GatewayEriClient,
  gatewayEri,
  offlineEri,
  openAiEri,
  withFallback,
} from './private/eri.js';
export {
  type AuIntensities,
  type FerCaptioner,
  facsCaptioner,
  loadPeakAus,
  type PeakAus,
} from './private/fer.js';
export { loadMeld, meldDialogueId, meldUtteranceId, parseMeldCsv } from './private/meld.js';
export { loadMosei, parseMosei } from './private/mosei.js';
export * as prompts from './private/prompts.js';
export {
  type DropReason,
  makeRecords,
  type QualityDrop,
  type QualityReport,
  type RecordOptions,
  type RecordSources,
} from './private/records.js';
export { EMT_RECORD_SCHEMA, recordErrors } from './private/schema.js';
export { type EmtManifest, readManifest, readRecords, type ShardInfo, writeEmt } from './private/shards.js';
export { cleanText, matchWords, repairMojibake, wordDice } from './private/text.js';
export {
  type EmtRecord,
  type LoadIssue,
  type SourceConversation,
  type SourceName,
  type SourceUtterance,
  SPLITS,
  type Split,
  TASKS,
  type Task,
} from './private/types.js';
