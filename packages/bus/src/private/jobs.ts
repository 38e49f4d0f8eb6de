// Job state in the KV bucket "emoverse-jobs", every write also published on emoverse.job.state.<job_id>.
import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { type JobState, type JobStateSchema, JobStateSchema as Schema } from '@emoverse/proto';
import type { JetStreamClient, KV } from 'nats';
import { events } from '../subjects.js';
import { publishEvent } from './publish.js';
import { whileElecting } from './retry.js';

const KEY = /^[A-Za-z0-9_=.\-/]+$/;

type JobStateInit = MessageInitShape<typeof JobStateSchema>;

/** The fields of a job's state that a patch may set; those it leaves out keep their current values. */
export type JobPatch = Partial<Omit<JobStateInit, 'jobId' | 'updatedAt' | '$typeName'>>;

// `{...current, status}` copies the $typeName of a JobState, which would make create() take the
// object as a finished message as is; dropping it makes create() build (and check) every field.
function build(init: JobStateInit, jobId?: string): JobState {
  const { $typeName: _t, ...fields } = init as JobStateInit & { $typeName?: string };
  return create(Schema, { ...fields, ...(jobId ? { jobId } : {}), updatedAt: timestampNow() });
}

function checkJobId(jobId: string): void {
  if (!KEY.test(jobId) || jobId.startsWith('.') || jobId.endsWith('.')) {
    throw new Error(`invalid job id ${JSON.stringify(jobId)}: use letters, digits and - _ = . /`);
  }
}

/**
 * Job state by job id in the KV bucket "emoverse-jobs" (JobState protobuf values). Every write is
 * also published on `emoverse.job.state.<job_id>` so watchers need no KV polling.
 */
export class JobStore {
  private constructor(
    readonly kv: KV,
    private readonly js: JetStreamClient,
  ) {}

  /** `kv` is the bucket kvBuckets.jobs, opened with its declared settings (Bus.kv). */
  static async open(js: JetStreamClient, kv: Promise<KV>): Promise<JobStore> {
    return new JobStore(await kv, js);
  }

  private async announce(state: JobState, revision: number): Promise<void> {
    await publishEvent(this.js, events.jobState, state, {
      token: state.jobId,
      msgId: `job:${state.jobId}:${revision}`,
    });
  }

  async get(jobId: string): Promise<JobState | undefined> {
    checkJobId(jobId);
    const entry = await whileElecting(`job state ${jobId}`, () => this.kv.get(jobId));
    if (entry?.operation !== 'PUT') return undefined;
    return fromBinary(Schema, entry.value);
  }

  /** Writes the state (updated_at set to now); returns the KV revision. */
  async put(state: JobStateInit): Promise<number> {
    const msg = build(state);
    checkJobId(msg.jobId);
    const revision = await whileElecting(`job state ${msg.jobId}`, () =>
      this.kv.put(msg.jobId, toBinary(Schema, msg)),
    );
    await this.announce(msg, revision);
    return revision;
  }

  /** The ids of every job with a state (e.g. to find unfinished runs at start-up). */
  async ids(): Promise<string[]> {
    return whileElecting('the job ids', async () => {
      const out: string[] = [];
      for await (const k of await this.kv.keys()) out.push(k);
      return out;
    });
  }

  /**
   * Read-modify-write with optimistic concurrency: `change` gets the current state (undefined if none)
   * and returns the next; retried when another writer got in between.
   */
  async update(jobId: string, change: (current: JobState | undefined) => JobStateInit): Promise<JobState> {
    checkJobId(jobId);
    for (let attempt = 0; attempt < 20; attempt++) {
      const entry = await whileElecting(`job state ${jobId}`, () => this.kv.get(jobId));
      const current = entry && entry.operation === 'PUT' ? fromBinary(Schema, entry.value) : undefined;
      const next = build(change(current), jobId);
      const bytes = toBinary(Schema, next);
      try {
        // (a write retried after a lost reply fails as a wrong sequence: read again, as for a racing writer)
        const revision = await whileElecting(`job state ${jobId}`, () =>
          entry ? this.kv.update(jobId, bytes, entry.revision) : this.kv.create(jobId, bytes),
        );
        await this.announce(next, revision);
        return next;
      } catch (err) {
        if (!/wrong last sequence|exists/i.test((err as Error).message)) throw err;
      }
    }
    throw new Error(`job ${jobId}: too many concurrent updates`);
  }

  /**
   * The one way to change part of a job's state: the fields given (or returned by `change`, which gets
   * the current state) replace the current ones, every other field is kept. A field given as undefined
   * is cleared (e.g. `error: undefined`). Retried like update().
   */
  patch(jobId: string, change: JobPatch | ((current: JobState | undefined) => JobPatch)): Promise<JobState> {
    return this.update(jobId, (cur) => ({
      kind: cur?.kind ?? '',
      status: cur?.status,
      stage: cur?.stage ?? '',
      progress: cur?.progress ?? 0,
      error: cur?.error,
      attributes: { ...(cur?.attributes ?? {}) },
      outputs: [...(cur?.outputs ?? [])],
      ...(typeof change === 'function' ? change(cur) : change),
      jobId,
    }));
  }

  async delete(jobId: string): Promise<void> {
    checkJobId(jobId);
    await this.kv.delete(jobId);
  }
}
