// Broadcast events through ordered (ephemeral) consumers: every subscriber sees every event.
import { type DescMessage, fromBinary, type MessageShape } from '@bufbuild/protobuf';
import { extractNatsHeaders, SpanKind, withSpan } from '@emoverse/telemetry';
import { ConsumerEvents, type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JsMsg } from 'nats';
import { type EventDef, subjectOf } from '../subjects.js';
import type { BusLogger } from './options.js';
import { FAILOVER_PULL, whileElecting } from './retry.js';

export interface SubscribeOptions {
  /** Token filter for tokenized events (e.g. one run id); default all. */
  token?: string;
  /** 'new' (default): only events published from now on; 'all': replay what the stream holds; 'last': the latest then new. */
  from?: 'new' | 'all' | 'last';
}

export interface BroadcastEvent {
  subject: string;
  seq: number;
  headers: Record<string, string>;
}

export interface Subscription {
  stop(): Promise<void>;
  closed: Promise<void>;
}

/**
 * Reads a broadcast event through an ordered (ephemeral) consumer: every subscriber sees every event,
 * e.g. each gateway replica sees model.published. Undecodable events are logged and skipped, handler
 * errors are logged; neither stops the subscription.
 *
 * An ordered consumer has one replica, on the node that led the stream when it was made. If that node
 * dies, nothing answers for the consumer (nats.js waits for it forever), so when the server's
 * heartbeats stop (two missed, 5 s with FAILOVER_PULL) the subscription makes a new consumer that
 * starts right after the last event it saw: nothing is lost or seen twice across a node's loss.
 */
export async function subscribeBroadcast<S extends DescMessage>(
  js: JetStreamClient,
  logger: BusLogger,
  event: EventDef<S>,
  handler: (event: MessageShape<S>, meta: BroadcastEvent) => Promise<void> | void,
  options: SubscribeOptions = {},
): Promise<Subscription> {
  const filterSubjects = subjectOf(event, options.token);
  // The stream sequence to start from: 'all' from the first, 'new' after the last stored now; 'last'
  // is the server's (the latest per subject) until an event was seen.
  let next: number | undefined =
    options.from === 'all'
      ? 1
      : options.from === 'last'
        ? undefined
        : (
            await whileElecting(`stream ${event.stream}`, async () =>
              (await js.streams.get(event.stream)).info(),
            )
          ).state.last_seq + 1;
  const open = async (): Promise<ConsumerMessages> => {
    const consumer = await whileElecting(`a subscription to ${event.stream}`, () =>
      // A single string becomes filter_subject, which nats-server 2.9 (Debian) understands; an array needs 2.10.
      js.consumers.get(
        event.stream,
        next === undefined
          ? { filterSubjects, deliver_policy: DeliverPolicy.LastPerSubject }
          : { filterSubjects, opt_start_seq: next },
      ),
    );
    return consumer.consume({ ...FAILOVER_PULL });
  };
  let messages = await open();
  let stopped = false;
  const receive = async (m: JsMsg) => {
    next = m.info.streamSequence + 1;
    const headers: Record<string, string> = {};
    if (m.headers) for (const k of m.headers.keys()) headers[k] = m.headers.get(k);
    let decoded: MessageShape<S>;
    try {
      decoded = fromBinary(event.schema, m.data);
    } catch (err) {
      logger.warn(
        { subject: m.subject, seq: m.seq, err: (err as Error).message },
        'undecodable broadcast event skipped',
      );
      return;
    }
    await withSpan(
      `receive ${event.subject}`,
      () => handler(decoded, { subject: m.subject, seq: m.seq, headers }),
      { kind: SpanKind.CONSUMER, parent: extractNatsHeaders(m.headers) },
    ).catch((err: Error) =>
      logger.error({ subject: m.subject, err: err.message }, 'broadcast handler failed'),
    );
  };
  const loop = (async () => {
    while (!stopped) {
      const current = messages;
      void stopWhenHeartbeatsStop(current);
      for await (const m of current) await receive(m);
      if (stopped) return;
      logger.warn(
        { stream: event.stream, next },
        'subscription lost its consumer (a NATS node down?): a new one resumes',
      );
      const reopened = await reopen(open, () => stopped, logger);
      if (!reopened) return;
      messages = reopened;
    }
  })();
  return {
    closed: loop,
    async stop() {
      stopped = true;
      messages.stop();
      await loop;
    },
  };
}

/** Stops `messages` (ending its iterator) once the server's heartbeats stopped (nats.js reports two missed). */
async function stopWhenHeartbeatsStop(messages: ConsumerMessages): Promise<void> {
  for await (const s of await messages.status()) {
    if (s.type === ConsumerEvents.HeartbeatsMissed) {
      messages.stop();
      return;
    }
  }
}

/** Opens a new consumer, again after each failure, until it works (or undefined once the subscription stopped). */
async function reopen(
  open: () => Promise<ConsumerMessages>,
  stopped: () => boolean,
  logger: BusLogger,
): Promise<ConsumerMessages | undefined> {
  for (;;) {
    if (stopped()) return undefined;
    try {
      return await open();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'subscription not reopened yet');
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
