// A video job's state in KV (kind "video") as it moves through frame-extractor ("frames") and au-scorer ("au"); a failed write is logged, never thrown.
import { create } from '@bufbuild/protobuf';
import {
  type AuScored,
  type ErrorInfo,
  ErrorInfoSchema,
  type FrameBatch,
  type JobState,
  JobStatus,
} from '@emoverse/proto';
import type { JobPatch, JobStore } from './jobs.js';
import type { BusLogger } from './options.js';

/** JobState.kind of a video job. */
export const VIDEO_JOB_KIND = 'video';

/** The stages of a video job, in order: frames (frame-extractor), then AUs (au-scorer). */
export type VideoStage = 'frames' | 'au';

/** Attributes of a video job's state: how many spans, and which spans each stage finished. */
export const videoJobAttributes = {
  /** Spans of the video (FrameBatch.span_count). */
  spans: 'spans',
  /** Spans whose every frame batch was published, e.g. "0,1". */
  extracted: 'spans_extracted',
  /** Spans whose AuScored was published. */
  scored: 'spans_scored',
  /** Scored spans that carry an error (unreadable span, no face). */
  failed: 'spans_failed',
} as const;

const A = videoJobAttributes;
const TERMINAL = new Set([JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED]);

/** A state change: the fields to patch, or undefined to leave the state as it is. */
type Change = (current: JobState | undefined) => JobPatch | undefined;

function spanSet(state: JobState | undefined, key: string): Set<number> {
  const raw = state?.attributes[key] ?? '';
  return new Set(raw === '' ? [] : raw.split(',').map(Number));
}

const formatSet = (s: Set<number>) => [...s].sort((a, b) => a - b).join(',');

const isTerminal = (s: JobState | undefined) => s !== undefined && TERMINAL.has(s.status);

/** The job's span count: the one recorded, else the event's, at least 1. */
function spanCount(state: JobState | undefined, fromEvent: number): number {
  return Math.max(1, Number(state?.attributes[A.spans]) || fromEvent || 1);
}

/** Half of the progress is extraction, half scoring; it never goes back. */
function progressOf(state: JobState | undefined, spans: number, extracted: number, scored: number): number {
  return Math.max(state?.progress ?? 0, Math.min(1, (extracted + scored) / (2 * spans)));
}

/** frame-extractor took the job: running, stage frames. A redelivery keeps what was recorded, and a finished job stays finished. */
export function startChange(spans: number, redelivered: boolean): Change {
  return (cur) => {
    if (redelivered && isTerminal(cur)) return undefined;
    const keep = redelivered ? (cur?.attributes ?? {}) : {};
    return {
      kind: VIDEO_JOB_KIND,
      status: JobStatus.RUNNING,
      stage: redelivered && cur?.stage ? cur.stage : 'frames',
      progress: redelivered ? (cur?.progress ?? 0) : 0,
      error: undefined,
      outputs: [],
      attributes: { ...keep, [A.spans]: String(Math.max(1, spans)) },
    };
  };
}

/** A FrameBatch was published: progress, and the span counted as extracted after its last batch. */
export function framesChange(
  b: Pick<FrameBatch, 'spanIndex' | 'batchIndex' | 'batchCount' | 'spanCount'>,
): Change {
  return (cur) => {
    if (isTerminal(cur)) return undefined;
    const spans = spanCount(cur, b.spanCount);
    const extracted = spanSet(cur, A.extracted);
    if (b.batchIndex + 1 >= b.batchCount) extracted.add(b.spanIndex);
    const partial = extracted.has(b.spanIndex) ? 0 : (b.batchIndex + 1) / Math.max(1, b.batchCount);
    const scored = spanSet(cur, A.scored).size;
    return {
      kind: VIDEO_JOB_KIND,
      status: JobStatus.RUNNING,
      // au-scorer may already score an earlier span: the stage never goes back.
      stage: cur?.stage === 'au' ? 'au' : 'frames',
      progress: progressOf(cur, spans, extracted.size + partial, scored),
      attributes: { ...cur?.attributes, [A.spans]: String(spans), [A.extracted]: formatSet(extracted) },
    };
  };
}

/** au-scorer scores a span: stage au. */
export function scoringChange(spans: number): Change {
  return (cur) => {
    if (isTerminal(cur) || cur?.stage === 'au') return undefined;
    return {
      kind: VIDEO_JOB_KIND,
      status: JobStatus.RUNNING,
      stage: 'au',
      attributes: { ...cur?.attributes, [A.spans]: String(spanCount(cur, spans)) },
    };
  };
}

/**
 * A span's AuScored was published. Once every span is scored the job ends: SUCCEEDED, or FAILED with
 * the span's error when no span gave scores (every one unreadable or without a face).
 */
export function scoredChange(s: Pick<AuScored, 'spanIndex' | 'spanCount' | 'error'>): Change {
  return (cur) => {
    if (isTerminal(cur)) return undefined;
    const spans = spanCount(cur, s.spanCount);
    const scored = spanSet(cur, A.scored).add(s.spanIndex);
    const failed = spanSet(cur, A.failed);
    if (s.error) failed.add(s.spanIndex);
    // A scored span was extracted, even when frame-extractor's write of it comes later (or is lost).
    const extracted = spanSet(cur, A.extracted);
    for (const i of scored) extracted.add(i);
    const done = scored.size >= spans;
    const allFailed = done && failed.size >= spans;
    return {
      kind: VIDEO_JOB_KIND,
      status: done ? (allFailed ? JobStatus.FAILED : JobStatus.SUCCEEDED) : JobStatus.RUNNING,
      stage: 'au',
      progress: done && !allFailed ? 1 : progressOf(cur, spans, extracted.size, scored.size),
      error: allFailed ? s.error : undefined,
      attributes: {
        ...cur?.attributes,
        [A.spans]: String(spans),
        [A.extracted]: formatSet(extracted),
        [A.scored]: formatSet(scored),
        [A.failed]: formatSet(failed),
      },
    };
  };
}

/** The job failed at `stage` with `error`; the first failure wins and a finished job stays finished. */
export function failedChange(stage: VideoStage, error: ErrorInfo): Change {
  return (cur) =>
    isTerminal(cur) ? undefined : { kind: VIDEO_JOB_KIND, status: JobStatus.FAILED, stage, error };
}

/**
 * Writes a video job's state as frame-extractor and au-scorer move it. Every method resolves within
 * `timeoutMs` and never throws: a failed or slow KV write is logged and the job goes on (the events
 * carry the work; the state is for watchers).
 */
export class VideoJobs {
  constructor(
    private readonly store: () => Promise<JobStore>,
    private readonly logger: BusLogger,
    /** The service writing the state (ErrorInfo.service of a dead letter). */
    private readonly service: string,
    private readonly timeoutMs = 5_000,
  ) {}

  /** frame-extractor took a video of `spans` spans (a redelivered one keeps a finished state). */
  extracting(jobId: string, spans: number, redelivered = false): Promise<void> {
    return this.write(jobId, 'extracting', startChange(spans, redelivered));
  }

  /** frame-extractor published a FrameBatch. */
  framesPublished(batch: FrameBatch): Promise<void> {
    return this.write(batch.jobId, 'frames', framesChange(batch));
  }

  /** au-scorer has every batch of a span and scores it. */
  scoring(jobId: string, spans: number): Promise<void> {
    return this.write(jobId, 'scoring', scoringChange(spans));
  }

  /** au-scorer published a span's AuScored (with or without an error). */
  scored(result: AuScored): Promise<void> {
    return this.write(result.jobId, 'scored', scoredChange(result));
  }

  /** The job cannot go on (e.g. the video is unreadable). */
  failed(jobId: string, stage: VideoStage, error: ErrorInfo): Promise<void> {
    return this.write(jobId, 'failed', failedChange(stage, error));
  }

  /** An onDeadLetter hook (ConsumeOptions) that marks the event's job FAILED at `stage` with the reason. */
  onDeadLetter(stage: VideoStage): (event: { jobId: string }, reason: string) => Promise<void> {
    return (event, reason) =>
      this.failed(
        event.jobId,
        stage,
        create(ErrorInfoSchema, { code: 'DEAD_LETTER', message: reason, service: this.service }),
      );
  }

  /** Applies `change` to the job's state, bounded by timeoutMs; logs instead of throwing. */
  private async write(jobId: string, what: string, change: Change): Promise<void> {
    if (!jobId) return;
    const work = this.apply(jobId, change);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([work, timeout]);
    } catch (err) {
      work.catch(() => undefined);
      this.logger.warn(
        { jobId, what, err: (err as Error).message },
        'job state not written; the job goes on',
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private async apply(jobId: string, change: Change): Promise<void> {
    const store = await this.store();
    // Read first so that a change with nothing to do writes (and announces) nothing.
    if (change(await store.get(jobId)) === undefined) return;
    await store.patch(jobId, (cur) => change(cur) ?? {});
  }
}
