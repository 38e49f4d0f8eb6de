// Work-queue consumers: durable pull consumers, ack after the handler, retries with backoff, dead letters.
//
// consumeWork is built from named parts, in the order a message meets them:
//   ensureWorkConsumer  creates (or updates) the durable pull consumer
//   handleMessage       one delivery: decode, skip duplicates, run the handler, settle (ack, nak, dead letter)
//     makeDelivery        what the handler gets (derived-msg-id publish, working())
//     settleFailure       a handler error: dead letter (permanent or out of deliveries) or nak with backoff
//     deadLetter          moves a message to the dead letters and acks it, then tells onDeadLetter
//   followMaxDeliveries the advisory for messages whose worker died on every delivery
//   pullLoop            pulls with bounded concurrency until stopped
// Fault injection (crash tests) comes only through ConsumeOptions.faults; nothing here reads the env for it.
import { type DescMessage, fromBinary, type MessageShape } from '@bufbuild/protobuf';
import { extractNatsHeaders, type Span, SpanKind, withSpan } from '@emoverse/telemetry';
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type Subscription,
} from 'nats';
import type { EventDef } from '../subjects.js';
import { publishDeadLetter } from './dead-letter.js';
import type { ProcessedMarkers } from './dedupe.js';
import type { BusMetrics } from './metrics.js';
import { type BusLogger, envMs, FAILOVER_PULL, nanos } from './options.js';
import {
  BusUnavailableError,
  type EventInit,
  type PublishOptions,
  type PublishResult,
  publishEvent,
} from './publish.js';
import { whileElecting } from './retry.js';

/** Throw this from a handler to dead-letter the message at once (bad input that no retry can fix). */
export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** What a handler gets besides the decoded event. */
export interface Delivery {
  subject: string;
  /** Nats-Msg-Id of the message (or `<stream>:<seq>` when it had none). */
  msgId: string;
  /** 1 on the first delivery. */
  deliveries: number;
  redelivered: boolean;
  streamSeq: number;
  headers: Record<string, string>;
  /** The CONSUMER span this handler runs in (child of the publisher's span). */
  span: Span;
  /**
   * Publishes an output event with a Nats-Msg-Id derived from this message, the consumer and key
   * (default: a counter of publishes in this handler call), so a redelivered message that is handled
   * again produces no duplicate outputs.
   */
  publish<S extends DescMessage>(
    event: EventDef<S>,
    message: EventInit<S>,
    options?: DerivedPublishOptions,
  ): Promise<PublishResult>;
  /** Tells JetStream the handler is still working (resets the ack timer). Called automatically too. */
  working(): void;
}

export interface DerivedPublishOptions extends Omit<PublishOptions, 'msgId' | 'parent'> {
  /** Distinguishes several outputs of one input (default: 0, 1, 2... in publish order). */
  key?: string;
}

export type Handler<S extends DescMessage> = (
  event: MessageShape<S>,
  delivery: Delivery,
) => Promise<void> | void;

export interface ConsumeOptions<S extends DescMessage = DescMessage> {
  /** Durable consumer name, shared by every replica of the worker (e.g. 'au-scorer'). */
  durable: string;
  /** Messages handled at once by this replica (default 1). */
  concurrency?: number;
  /** Deliveries before the message goes to the dead-letter subject (default 5). */
  maxDeliver?: number;
  /** Redelivery when a handler neither acks nor fails, e.g. its process died (default $EMOVERSE_BUS_ACK_WAIT_MS or 30 s). */
  ackWaitMs?: number;
  /** Delay before the n-th retry after a handler error (default 1 s, 5 s, 15 s, 30 s...). */
  backoffMs?: number[];
  /** Skip messages this durable already handled (KV markers; default true). */
  dedupe?: boolean;
  /** Call working() every ackWait/3 while a handler runs (default true; off only for short handlers). */
  heartbeat?: boolean;
  /**
   * Runs once a message of this consumer was moved to the dead letters (a PermanentError, out of
   * deliveries, or a worker that died on every delivery), with the event and the reason; e.g. to mark
   * its job failed. Not called for a payload that does not decode. Its errors are logged, never thrown.
   */
  onDeadLetter?: (event: MessageShape<S>, reason: string) => Promise<void> | void;
  /** Test hooks for crash tests; production code passes none. */
  faults?: ConsumeFaults;
}

/** Fault injection for tests, passed in through ConsumeOptions. */
export interface ConsumeFaults {
  /** Runs after the handler succeeded, before the message is marked handled and acked (e.g. to kill the process). */
  beforeAck?: (delivery: { subject: string; msgId: string; durable: string }) => Promise<void> | void;
}

export interface WorkConsumer {
  durable: string;
  /** Stops pulling, waits for in-flight handlers to finish (and ack). */
  stop(): Promise<void>;
  /** Resolves when the consumer stops. */
  closed: Promise<void>;
}

interface ConsumeDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  logger: BusLogger;
  markers?: ProcessedMarkers;
  metrics?: BusMetrics;
}

const DEFAULT_BACKOFF_MS = [1_000, 5_000, 15_000, 30_000, 60_000];

function headerRecord(m: JsMsg): Record<string, string> {
  const out: Record<string, string> = {};
  if (!m.headers) return out;
  for (const k of m.headers.keys()) out[k] = m.headers.get(k);
  return out;
}

/** Creates (or updates) the durable pull consumer of a work event. */
export async function ensureWorkConsumer(
  jsm: JetStreamManager,
  event: EventDef,
  durable: string,
  maxDeliver: number,
  ackWaitMs: number,
): Promise<void> {
  if (!/^[A-Za-z0-9_-]+$/.test(durable)) throw new Error(`invalid durable name ${JSON.stringify(durable)}`);
  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: event.tokenized ? `${event.subject}.>` : event.subject,
    max_deliver: maxDeliver,
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: 1_000,
  };
  const what = `consumer ${durable} on ${event.stream}`;
  try {
    await whileElecting(what, () => jsm.consumers.add(event.stream, config));
  } catch (err) {
    const message = (err as Error).message;
    if (/already (exists|in use)/i.test(message)) {
      await whileElecting(what, () => jsm.consumers.update(event.stream, durable, config));
    } else if (/not unique|overlap/i.test(message)) {
      throw new Error(
        `${event.stream} is a work queue: only one durable may consume ${event.subject} (tried ${durable}): ${message}`,
      );
    } else {
      throw new Error(`cannot create consumer ${durable} on ${event.stream}: ${message}`);
    }
  }
}

/** A consumer's fixed settings and collaborators, shared by the parts below. */
interface ConsumerContext<S extends DescMessage> {
  deps: ConsumeDeps;
  event: EventDef<S>;
  handler: Handler<S>;
  options: ConsumeOptions<S>;
  durable: string;
  maxDeliver: number;
  ackWaitMs: number;
  backoff: number[];
  concurrency: number;
  markers?: ProcessedMarkers;
  count: (outcome: 'ok' | 'retry' | 'dead_letter' | 'duplicate') => void;
}

/** Tells the consumer's onDeadLetter hook (if any) that `event` was dead-lettered; logs its failure. */
async function notifyDeadLetter<S extends DescMessage>(
  c: ConsumerContext<S>,
  event: MessageShape<S> | undefined,
  reason: string,
): Promise<void> {
  if (!c.options.onDeadLetter || event === undefined) return;
  try {
    await c.options.onDeadLetter(event, reason);
  } catch (err) {
    c.deps.logger.warn({ subject: c.event.subject, err: (err as Error).message }, 'onDeadLetter failed');
  }
}

/** The event of a stored payload, or undefined when it does not decode. */
function tryDecode<S extends DescMessage>(
  c: ConsumerContext<S>,
  data: Uint8Array,
): MessageShape<S> | undefined {
  try {
    return fromBinary(c.event.schema, data);
  } catch {
    return undefined;
  }
}

/**
 * Moves a message to the dead letters with a reason; acking it removes it from the work queue. Then
 * tells onDeadLetter, when the message decoded (`event`).
 */
async function deadLetter<S extends DescMessage>(
  c: ConsumerContext<S>,
  m: JsMsg,
  reason: string,
  event?: MessageShape<S>,
): Promise<void> {
  await publishDeadLetter(c.deps.js, {
    subject: m.subject,
    reason,
    original: m.data,
    deliveries: m.info.deliveryCount,
    stream: m.info.stream,
    consumer: c.durable,
    streamSeq: m.seq,
    headers: m.headers,
  });
  // The message is settled by moving it: ack removes it from the work queue.
  await m.ackAck();
  c.count('dead_letter');
  c.deps.logger.warn(
    { subject: m.subject, seq: m.seq, reason, deliveries: m.info.deliveryCount },
    'dead-lettered',
  );
  await notifyDeadLetter(c, event, reason);
}

/** What the handler gets for message `m`: its metadata, working(), and publish with derived msg ids. */
function makeDelivery<S extends DescMessage>(
  c: ConsumerContext<S>,
  m: JsMsg,
  msgId: string,
  span: Span,
): Delivery {
  let published = 0;
  const deliveries = m.info.deliveryCount;
  return {
    subject: m.subject,
    msgId,
    deliveries,
    redelivered: deliveries > 1,
    streamSeq: m.seq,
    headers: headerRecord(m),
    span,
    working: () => m.working(),
    publish: (out, message, opts = {}) => {
      const key = opts.key ?? String(published++);
      return publishEvent(c.deps.js, out, message, { ...opts, msgId: `${msgId}>${c.durable}>${key}` });
    },
  };
}

/** A handler error: dead letter when permanent or out of deliveries, else nak with the backoff delay. */
async function settleFailure<S extends DescMessage>(
  c: ConsumerContext<S>,
  m: JsMsg,
  msgId: string,
  error: Error,
  event: MessageShape<S>,
): Promise<void> {
  const deliveries = m.info.deliveryCount;
  if (error instanceof PermanentError) {
    await deadLetter(c, m, `rejected: ${error.message}`, event);
  } else if (deliveries >= c.maxDeliver && !(error instanceof BusUnavailableError)) {
    // An unavailable bus is no fault of the message: it is naked again, never dead-lettered for it.
    await deadLetter(c, m, `max deliveries (${c.maxDeliver}) reached; last error: ${error.message}`, event);
  } else {
    const delay = c.backoff[Math.min(deliveries - 1, c.backoff.length - 1)] ?? 1_000;
    c.deps.logger.warn(
      { subject: m.subject, msgId, deliveries, delayMs: delay, err: error.message },
      'handler failed; will retry',
    );
    m.nak(delay);
    c.count('retry');
  }
}

/** Acks a message this durable already handled (its marker is set) without running the handler. */
async function skipDuplicate<S extends DescMessage>(
  c: ConsumerContext<S>,
  m: JsMsg,
  msgId: string,
  span: Span,
) {
  c.deps.logger.info(
    { subject: m.subject, msgId, deliveries: m.info.deliveryCount },
    'duplicate delivery skipped: already handled',
  );
  span.setAttribute('messaging.duplicate', true);
  await m.ackAck();
  c.count('duplicate');
}

/** Runs the handler with a heartbeat and a latency timer; settles a failure. Returns whether it succeeded. */
async function runHandler<S extends DescMessage>(
  c: ConsumerContext<S>,
  m: JsMsg,
  msgId: string,
  decoded: MessageShape<S>,
  span: Span,
): Promise<boolean> {
  // Keep the message ours while a long handler runs.
  const heartbeat =
    c.options.heartbeat === false
      ? undefined
      : setInterval(() => m.working(), Math.max(250, c.ackWaitMs / 3));
  const timer = c.deps.metrics?.handlerSeconds.startTimer({ subject: c.event.subject, durable: c.durable });
  let error: Error | undefined;
  try {
    await c.handler(decoded, makeDelivery(c, m, msgId, span));
  } catch (err) {
    error = err as Error;
  }
  timer?.();
  clearInterval(heartbeat);
  if (!error) return true;
  span.recordException(error);
  await settleFailure(c, m, msgId, error, decoded);
  return false;
}

/** One delivery, in its CONSUMER span: decode, skip duplicates, handle, then mark and ack. */
async function handleMessage<S extends DescMessage>(c: ConsumerContext<S>, m: JsMsg): Promise<void> {
  const msgId = headerRecord(m)['Nats-Msg-Id'] || `${m.info.stream}:${m.seq}`;
  const deliveries = m.info.deliveryCount;
  await withSpan(
    `consume ${c.event.subject}`,
    async (span) => {
      span.setAttribute('messaging.message.id', msgId);
      span.setAttribute('messaging.consumer.group.name', c.durable);
      span.setAttribute('messaging.delivery_count', deliveries);
      let decoded: MessageShape<S>;
      try {
        decoded = fromBinary(c.event.schema, m.data);
      } catch (err) {
        await deadLetter(c, m, `undecodable ${c.event.schema.typeName}: ${(err as Error).message}`);
        return;
      }
      if (c.markers && (await c.markers.seen(c.durable, msgId))) return skipDuplicate(c, m, msgId, span);
      c.deps.logger.info({ subject: m.subject, msgId, deliveries, durable: c.durable }, 'handling event');
      if (!(await runHandler(c, m, msgId, decoded, span))) return;
      await c.options.faults?.beforeAck?.({ subject: m.subject, msgId, durable: c.durable });
      if (c.markers) await c.markers.mark(c.durable, msgId);
      await m.ackAck();
      c.count('ok');
    },
    {
      kind: SpanKind.CONSUMER,
      parent: extractNatsHeaders(m.headers),
      attributes: { 'messaging.system': 'nats' },
    },
  );
}

/**
 * A message whose worker died on every delivery is never nak'ed by us; JetStream then announces it
 * on an advisory. One replica (queue group) moves it to the dead letters and deletes it.
 */
function followMaxDeliveries<S extends DescMessage>(c: ConsumerContext<S>): Subscription {
  const { js, jsm, logger } = c.deps;
  const stream = c.event.stream;
  return c.deps.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${c.durable}`, {
    queue: `${c.durable}-max-deliveries`,
    callback: (err, msg) => {
      if (err) return;
      void (async () => {
        const advisory = JSON.parse(new TextDecoder().decode(msg.data)) as {
          stream_seq: number;
          deliveries: number;
        };
        const stored = await jsm.streams.getMessage(stream, { seq: advisory.stream_seq });
        const reason = `max deliveries (${advisory.deliveries}) reached without an ack (worker crashed or timed out)`;
        await publishDeadLetter(js, {
          subject: stored.subject,
          reason,
          original: stored.data,
          deliveries: advisory.deliveries,
          stream,
          consumer: c.durable,
          streamSeq: advisory.stream_seq,
          headers: stored.header,
        });
        await jsm.streams.deleteMessage(stream, advisory.stream_seq);
        logger.warn(
          { subject: stored.subject, seq: advisory.stream_seq },
          'dead-lettered after max deliveries',
        );
        await notifyDeadLetter(c, tryDecode(c, stored.data), reason);
      })().catch((e: Error) => logger.warn({ err: e.message }, 'max-deliveries advisory not handled'));
    },
  });
}

/** Pulls and handles messages, at most `concurrency` at once; once stopping, hands new ones back. */
async function pullLoop<S extends DescMessage>(
  c: ConsumerContext<S>,
  messages: ConsumerMessages,
  inFlight: Set<Promise<void>>,
  stopping: () => boolean,
): Promise<void> {
  for await (const m of messages) {
    if (stopping()) {
      // Not ours to handle any more: let another replica have it now.
      m.nak();
      continue;
    }
    const p = handleMessage(c, m)
      .catch((err: Error) => {
        // Only bus failures (e.g. the connection closed mid-ack) get here; the message is redelivered.
        c.deps.logger.error(
          { subject: m.subject, seq: m.seq, err: err.message },
          'message not settled; it will be redelivered',
        );
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    while (inFlight.size >= c.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/**
 * Handles a work event with a durable pull consumer shared by every replica (work-queue retention):
 * explicit ack after the handler succeeds, nak with backoff when it throws, dead letter after
 * maxDeliver deliveries, on PermanentError, or when the payload does not decode. Never throws out of
 * the loop, so one bad message cannot stop a worker.
 */
export async function consumeWork<S extends DescMessage>(
  deps: ConsumeDeps,
  event: EventDef<S>,
  handler: Handler<S>,
  options: ConsumeOptions<S>,
): Promise<WorkConsumer> {
  if (event.kind !== 'work')
    throw new Error(`${event.subject} is a broadcast event: use subscribe(), not consume()`);
  const durable = options.durable;
  const c: ConsumerContext<S> = {
    deps,
    event,
    handler,
    options,
    durable,
    maxDeliver: options.maxDeliver ?? 5,
    ackWaitMs: options.ackWaitMs ?? envMs('EMOVERSE_BUS_ACK_WAIT_MS', 30_000),
    backoff: options.backoffMs ?? DEFAULT_BACKOFF_MS,
    concurrency: Math.max(1, options.concurrency ?? 1),
    markers: options.dedupe === false ? undefined : deps.markers,
    count: (outcome) => deps.metrics?.messages.inc({ subject: event.subject, durable, outcome }),
  };
  await ensureWorkConsumer(deps.jsm, event, durable, c.maxDeliver, c.ackWaitMs);
  const consumer = await whileElecting(`consumer ${durable} on ${event.stream}`, () =>
    deps.js.consumers.get(event.stream, durable),
  );
  const messages: ConsumerMessages = await consumer.consume({
    ...FAILOVER_PULL,
    max_messages: c.concurrency,
  });
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  const advisories = followMaxDeliveries(c);
  const loop = pullLoop(c, messages, inFlight, () => stopping);

  let stopped: Promise<void> | undefined;
  return {
    durable,
    closed: loop,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        await Promise.all(inFlight);
        messages.stop();
        advisories.unsubscribe();
        await loop;
      })();
      return stopped;
    },
  };
}
