// Broadcast events through ordered (ephemeral) consumers: every subscriber sees every event.
import { type DescMessage, fromBinary, type MessageShape } from '@bufbuild/protobuf';
import { extractNatsHeaders, SpanKind, withSpan } from '@emoverse/telemetry';
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient } from 'nats';
import { type EventDef, subjectOf } from '../subjects.js';
import type { BusLogger } from './options.js';

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
 */
export async function subscribeBroadcast<S extends DescMessage>(
  js: JetStreamClient,
  logger: BusLogger,
  event: EventDef<S>,
  handler: (event: MessageShape<S>, meta: BroadcastEvent) => Promise<void> | void,
  options: SubscribeOptions = {},
): Promise<Subscription> {
  // 'all' is the ordered consumer's own default (start at sequence 1); passing DeliverPolicy.All
  // alongside its start sequence makes the server refuse the consumer.
  const deliver =
    options.from === 'all'
      ? undefined
      : options.from === 'last'
        ? DeliverPolicy.LastPerSubject
        : DeliverPolicy.New;
  const consumer = await js.consumers.get(event.stream, {
    // A single string becomes filter_subject, which nats-server 2.9 (Debian) understands; an array needs 2.10.
    filterSubjects: subjectOf(event, options.token),
    deliver_policy: deliver,
  });
  const messages: ConsumerMessages = await consumer.consume();
  const loop = (async () => {
    for await (const m of messages) {
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
        continue;
      }
      await withSpan(
        `receive ${event.subject}`,
        () => handler(decoded, { subject: m.subject, seq: m.seq, headers }),
        {
          kind: SpanKind.CONSUMER,
          parent: extractNatsHeaders(m.headers),
        },
      ).catch((err: Error) =>
        logger.error({ subject: m.subject, err: err.message }, 'broadcast handler failed'),
      );
    }
  })();
  return {
    closed: loop,
    async stop() {
      messages.stop();
      await loop;
    },
  };
}
