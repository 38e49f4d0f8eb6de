// Publishing one typed event to JetStream, in a PRODUCER span whose trace context travels in the headers.
import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import { type Context, context, injectNatsHeaders, SpanKind, withSpan } from '@emoverse/telemetry';
import { type JetStreamClient, type MsgHdrs, headers as natsHeaders } from 'nats';
import { type EventDef, subjectOf } from '../subjects.js';
import { envMs } from './options.js';
import { retryWhileUnavailable } from './retry.js';

export interface PublishOptions {
  /**
   * Nats-Msg-Id for de-duplication. Give a stable id (e.g. `video:<job_id>`) so a retried publish is
   * stored once; without it a random id is used and nothing is de-duplicated.
   */
  msgId?: string;
  /** Token for tokenized events (run id, job id, original subject). */
  token?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Parent trace context (default: the active one). */
  parent?: Context;
  /** PubAck timeout in ms of one attempt (default 5000). */
  timeoutMs?: number;
  /**
   * How long to keep retrying while no stream leader answers (a NATS node down, an election, a lost
   * quorum) before failing with BusUnavailableError (default $EMOVERSE_BUS_PUBLISH_RETRY_MS or 30 s).
   * Retries are safe: every attempt carries the same Nats-Msg-Id.
   */
  retryForMs?: number;
}

export interface PublishResult {
  subject: string;
  msgId: string;
  stream: string;
  seq: number;
  /** True when the stream already had this Nats-Msg-Id within its duplicate window (not stored again). */
  duplicate: boolean;
}

export type EventInit<S extends DescMessage> = MessageInitShape<S> | MessageShape<S>;

export const EVENT_TYPE_HEADER = 'Emoverse-Event';

/**
 * JetStream did not store a publish while retrying for a while: no leader of the stream answered (its
 * NATS nodes are down, or a cluster lost its quorum). Nothing was stored or the same Nats-Msg-Id makes a
 * later retry store it once; a worker that gets this does not ack its input, so it is delivered again.
 */
export class BusUnavailableError extends Error {
  constructor(
    readonly subject: string,
    readonly attempts: number,
    readonly waitedMs: number,
    cause: Error,
    /** what did not happen, when it was not a publish (an object-store read or write) */
    operation?: string,
  ) {
    const last = `last error: ${cause.message || (cause as { code?: string }).code}`;
    super(
      operation
        ? `JetStream did not ${operation} after ${attempts} attempt(s) over ${waitedMs} ms (${last}): ` +
            'no stream leader answers; is a quorum of the NATS cluster up?'
        : `JetStream did not store ${subject} after ${attempts} attempt(s) over ${waitedMs} ms ` +
            `(${last}): no stream leader answers; ` +
            'is a quorum of the NATS cluster up? The publish is safe to retry (same Nats-Msg-Id).',
      { cause },
    );
    this.name = 'BusUnavailableError';
  }
}

/**
 * Publishes one event to JetStream inside a PRODUCER span whose context travels in the headers
 * (traceparent), waiting for the stream's acknowledgement.
 */
export async function publishEvent<S extends DescMessage>(
  js: JetStreamClient,
  event: EventDef<S>,
  message: EventInit<S>,
  options: PublishOptions = {},
): Promise<PublishResult> {
  const subject = subjectOf(event, options.token);
  if (subject.endsWith('>'))
    throw new Error(`${event.subject} needs a token (e.g. a run id or job id) to publish`);
  const msg = create(event.schema, message as MessageInitShape<S>);
  const data = toBinary(event.schema, msg);
  const msgId = options.msgId ?? crypto.randomUUID();
  return withSpan(
    `publish ${event.subject}`,
    async (span) => {
      const h: MsgHdrs = natsHeaders();
      for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
      h.set(EVENT_TYPE_HEADER, event.schema.typeName);
      injectNatsHeaders(h);
      const ack = await retryWhileUnavailable(
        options.retryForMs ?? envMs('EMOVERSE_BUS_PUBLISH_RETRY_MS', 30_000),
        () => js.publish(subject, data, { msgID: msgId, headers: h, timeout: options.timeoutMs ?? 5_000 }),
        (last, attempts, waited) => new BusUnavailableError(subject, attempts, waited, last),
      );
      span.setAttribute('messaging.message.id', msgId);
      span.setAttribute('messaging.duplicate', ack.duplicate);
      return { subject, msgId, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    },
    {
      kind: SpanKind.PRODUCER,
      parent: options.parent ?? context.active(),
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject },
    },
  );
}
