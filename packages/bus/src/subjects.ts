// Every NATS subject, stream, KV bucket and object-store bucket of EmoVerse, named once.
// Services never spell a subject themselves: they pass one of `events.*` to Bus.publish / consume / subscribe.
import type { DescMessage } from '@bufbuild/protobuf';
import {
  AuScoredSchema,
  DeadLetterSchema,
  EmtRecordSchema,
  FrameBatchSchema,
  JobStateSchema,
  ModelPublishedSchema,
  SourceRecordSchema,
  TrainingProgressSchema,
  VideoSubmittedSchema,
} from '@emoverse/proto';

export const subjects = {
  /** VideoSubmitted: a video to run through frame-extractor -> au-scorer. Work queue. */
  videoSubmitted: 'emoverse.video.submitted',
  /** FrameBatch: frames of one span, from frame-extractor. Work queue (au-scorer). */
  framesExtracted: 'emoverse.frames.extracted',
  /** AuScored: AUs, S_f and peaks of one span, from au-scorer. Work queue (caption-generator). */
  auScored: 'emoverse.au.scored',
  /** SourceRecord: a MELD / ECF / MOSEI utterance to turn into EMT records. Work queue (caption-generator). */
  sourceRecord: 'emoverse.source.record',
  /** EmtRecord: one built instruction record. Work queue (dataset writer / trainer). */
  emtRecord: 'emoverse.emt.record',
  /** TrainingProgress of a run: `emoverse.training.progress.<run_id>`. Broadcast. */
  trainingProgress: 'emoverse.training.progress',
  /** ModelPublished: a new model version or adapter. Broadcast (every gateway replica). */
  modelPublished: 'emoverse.model.published',
  /** JobState changes: `emoverse.job.state.<job_id>`. Broadcast; the current state lives in KV. */
  jobState: 'emoverse.job.state',
  /** DeadLetter: `emoverse.deadletter.<original subject>`. Broadcast, kept 14 days. */
  deadLetter: 'emoverse.deadletter',
} as const;

/** KV buckets. */
export const kvBuckets = {
  /** JobState by job id. */
  jobs: 'emoverse-jobs',
  /** Markers of messages a durable consumer already handled (consumer-side de-duplication). */
  processed: 'emoverse-processed',
  /** Model registry: current version per model id (gateway hot reload). */
  models: 'emoverse-models',
} as const;

/** Object-store buckets. */
export const blobBuckets = {
  videos: 'emoverse-videos',
  frames: 'emoverse-frames',
  datasets: 'emoverse-datasets',
  checkpoints: 'emoverse-checkpoints',
  adapters: 'emoverse-adapters',
} as const;

/**
 * 'work': a WorkQueue-retention stream; one durable pull consumer per subject that N replicas share,
 * and a message leaves the stream when it is acked.
 * 'broadcast': a limits-retention stream; every subscriber reads it through its own ordered consumer.
 */
export type EventKind = 'work' | 'broadcast';

export interface EventDef<S extends DescMessage = DescMessage> {
  /** Subject (for tokenized events, the prefix before `.<token>`). */
  subject: string;
  /** Whether the subject takes one more token (run id, job id, original subject). */
  tokenized: boolean;
  schema: S;
  stream: string;
  kind: EventKind;
}

function def<S extends DescMessage>(
  subject: string,
  schema: S,
  stream: string,
  kind: EventKind,
  tokenized = false,
): EventDef<S> {
  return { subject, schema, stream, kind, tokenized };
}

/** Every event on the bus, with its subject, protobuf schema and stream. */
export const events = {
  videoSubmitted: def(subjects.videoSubmitted, VideoSubmittedSchema, 'EMOVERSE_VIDEO_SUBMITTED', 'work'),
  framesExtracted: def(subjects.framesExtracted, FrameBatchSchema, 'EMOVERSE_FRAMES_EXTRACTED', 'work'),
  auScored: def(subjects.auScored, AuScoredSchema, 'EMOVERSE_AU_SCORED', 'work'),
  sourceRecord: def(subjects.sourceRecord, SourceRecordSchema, 'EMOVERSE_SOURCE_RECORD', 'work'),
  emtRecord: def(subjects.emtRecord, EmtRecordSchema, 'EMOVERSE_EMT_RECORD', 'work'),
  trainingProgress: def(
    subjects.trainingProgress,
    TrainingProgressSchema,
    'EMOVERSE_TRAINING_PROGRESS',
    'broadcast',
    true,
  ),
  modelPublished: def(subjects.modelPublished, ModelPublishedSchema, 'EMOVERSE_MODEL_PUBLISHED', 'broadcast'),
  jobState: def(subjects.jobState, JobStateSchema, 'EMOVERSE_JOB_STATE', 'broadcast', true),
  deadLetter: def(subjects.deadLetter, DeadLetterSchema, 'EMOVERSE_DEADLETTER', 'broadcast', true),
} as const;

export type EventName = keyof typeof events;

/** The concrete subject of an event: `subject` or `subject.<token>` for tokenized events. */
export function subjectOf(event: EventDef, token?: string): string {
  if (!event.tokenized) {
    if (token !== undefined)
      throw new Error(`${event.subject} takes no subject token (got ${JSON.stringify(token)})`);
    return event.subject;
  }
  if (token === undefined || token === '') return `${event.subject}.>`;
  // '.'-separated tokens are allowed for dead letters (the original subject); wildcards and spaces are not.
  if (/[\s*>]/.test(token)) throw new Error(`invalid subject token ${JSON.stringify(token)}`);
  return `${event.subject}.${token}`;
}

/** The filter subject of a stream holding the event (prefix.> for tokenized events). */
export function streamSubject(event: EventDef): string {
  return event.tokenized ? `${event.subject}.>` : event.subject;
}
