// Broadcast events through ordered (ephemeral) consumers: every subscriber sees every event.
import { type DescMessage, fromBinary, type MessageShape } from '@bufbuild/protobuf';
import { extractNatsHeaders, SpanKind, withSpan } from '@emoverse/telemetry';
import {
  type Consumer,
  ConsumerEvents,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JsMsg,
} from 'nats';
import { type EventDef, subjectOf } from '../subjects.js';
import { type BusLogger, FAILOVER_PULL } from './options.js';
import { whileElecting } from './retry.js';

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
 * heartbeats stop (two missed, 5 s with FAILOVER_PULL), or the consumer's info goes unanswered twice
 * in a row (asked every 5 s; this catches the case where the connection's own server died, which
 * silences nats.js's heartbeat check), the subscription makes a new consumer that starts right after
 * the last event it saw: nothing is lost or seen twice across a node's loss.
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
  const open = async (): Promise<Opened> => {
    const consumer = await whileElecting(`a subscription to ${event.stream}`, () =>
      // A single string becomes filter_subject, which nats-server 2.9 (Debian) understands; an array needs 2.10.
      js.consumers.get(
        event.stream,
        next === undefined
          ? { filterSubjects, deliver_policy: DeliverPolicy.LastPerSubject }
          : { filterSubjects, opt_start_seq: next },
      ),
    );
    return { consumer, messages: await consumer.consume({ ...FAILOVER_PULL }) };
  };
  let current = await open();
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
      const unwatch = stopWhenUnanswered(current);
      try {
        for await (const m of current.messages) await receive(m);
      } catch (err) {
        // e.g. the consumer was deleted under it: a new one resumes, as after a lost node
        logger.warn({ stream: event.stream, err: (err as Error).message }, 'subscription consumer failed');
      }
      unwatch();
      if (stopped) return;
      logger.warn(
        { stream: event.stream, next },
        'subscription lost its consumer (a NATS node down?): a new one resumes',
      );
      const reopened = await reopen(open, () => stopped, logger);
      if (!reopened) return;
      current = reopened;
    }
  })();
  return {
    closed: loop,
    async stop() {
      stopped = true;
      current.messages.stop();
      await loop;
    },
  };
}

interface Opened {
  consumer: Consumer;
  messages: ConsumerMessages;
}

/** How often a subscription asks for its consumer's info, and how long it waits for the answer. */
const CHECK_EVERY_MS = 5_000;
const CHECK_TIMEOUT_MS = 3_000;

/**
 * Stops `messages` (ending its iterator) once the server's heartbeats stopped (nats.js reports two
 * missed) or the consumer's info went unanswered twice in a row; returns the function that ends the watch.
 */
function stopWhenUnanswered({ consumer, messages }: Opened): () => void {
  let watching = true;
  void (async () => {
    for await (const s of await messages.status()) {
      if (!watching) return;
      if (s.type === ConsumerEvents.HeartbeatsMissed) return messages.stop();
    }
  })();
  let unanswered = 0;
  const timer = setInterval(async () => {
    const answered = await Promise.race([
      consumer.info().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => setTimeout(() => r(false), CHECK_TIMEOUT_MS).unref()),
    ]);
    unanswered = answered ? 0 : unanswered + 1;
    if (unanswered >= 2 && watching) messages.stop();
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => {
    watching = false;
    clearInterval(timer);
  };
}

/** Opens a new consumer, again after each failure, until it works (or undefined once the subscription stopped). */
async function reopen(
  open: () => Promise<Opened>,
  stopped: () => boolean,
  logger: BusLogger,
): Promise<Opened | undefined> {
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
