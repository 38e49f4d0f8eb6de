// Plain data the EMT builder works on: source utterances/conversations (as loaded) and EMT records (as written).
// Field names follow emoverse.v1.SourceRecord / EmtRecord so the caption-generator can map them 1:1.
import type { EcpePair, MeldEmotion, Sentiment } from '@emoverse/metrics';

/** The five tasks of the M2SE recipe. */
export const TASKS = ['msa', 'er', 'fer', 'eri', 'ecpe'] as const;
export type Task = (typeof TASKS)[number];

export const SPLITS = ['train', 'dev', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** Which dataset a source record came from (SourceRecord.source). */
export type SourceName = 'meld' | 'ecf1' | 'ecf2' | 'mosei';

/** One utterance of a source dataset, before it becomes EMT records. */
export interface SourceUtterance {
  /** Stable id, e.g. "meld/train/dia12_utt3", "ecf1/conv18/utt3", "mosei/train/<segment>". */
  id: string;
  source: SourceName;
  split: Split;
  /** Conversation it belongs to, e.g. "meld/train/dia12". */
  conversationId: string;
  /** 1-based position in the conversation (ECF numbering; MELD's Utterance_ID + 1). */
  index: number;
  speaker: string;
  text: string;
  emotion?: MeldEmotion;
  sentiment?: Sentiment;
  /** Sentiment intensity in [-3, 3] where the source has one (MOSEI). */
  sentimentScore?: number;
  /** Video of this utterance as the paper's JSON names it, e.g. "MELD/train/dia12_utt3.mp4". */
  video?: string;
  /** For ECF utterances: the MELD utterance it is (from all_data_pair_ECFvsMELD.txt or text matching). */
  meldId?: string;
  /** Where it was read from, for error reports. */
  origin?: { file: string; line: number };
}

/** A conversation with its emotion-cause pairs (ECF). */
export interface SourceConversation {
  id: string;
  source: SourceName;
  split: Split;
  utterances: SourceUtterance[];
  /** 1-based (emotion utterance, cause utterance) pairs with the emotion of the emotion utterance. */
  pairs: EcpePair[];
  /**
   * Identities of the underlying Friends scenes, used to keep test conversations out of train:
   * MELD dialogue ids ("meld/test/dia73") for MELD and ECF 1.0, the conversation's own id for ECF 2.0.
   */
  sceneKeys: string[];
}

/** A malformed input row: reported with file and line, never fatal. */
export interface LoadIssue {
  file: string;
  line: number;
  reason: string;
}

/** One EMT instruction record: an ms-swift JSONL row plus the fields EmoVerse needs. */
export interface EmtRecord {
  id: string;
  task: Task;
  split: Split;
  source: SourceName;
  query: string;
  response: string;
  videos?: string[];
  images?: string[];
  /** Id of the source utterance (or conversation target) it came from. */
  sourceId: string;
  /** Gold labels and provenance as strings (EmtRecord.meta in the proto): conversation, emotion, pairs, ... */
  meta: Record<string, string>;
}
