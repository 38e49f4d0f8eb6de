// Dead letters: a message no retry can fix, published once on emoverse.deadletter.<subject>.
import { timestampNow } from '@bufbuild/protobuf/wkt';
import type { JetStreamClient, MsgHdrs } from 'nats';
import { events } from '../subjects.js';
import { publishEvent } from './publish.js';

export interface DeadLetterInput {
  subject: string;
  reason: string;
  original: Uint8Array;
  deliveries: number;
  stream: string;
  consumer: string;
  streamSeq: number;
  headers?: MsgHdrs;
}

function headerRecord(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const key of h.keys()) out[key] = h.get(key);
  return out;
}

/**
 * Publishes a DeadLetter on `emoverse.deadletter.<original subject>`. Its Nats-Msg-Id is derived from
 * the stream sequence, so replicas racing to dead-letter the same message store it once.
 */
export async function publishDeadLetter(js: JetStreamClient, input: DeadLetterInput): Promise<void> {
  await publishEvent(
    js,
    events.deadLetter,
    {
      subject: input.subject,
      reason: input.reason,
      original: input.original,
      deliveries: input.deliveries,
      stream: input.stream,
      consumer: input.consumer,
      streamSeq: BigInt(input.streamSeq),
      headers: headerRecord(input.headers),
      failedAt: timestampNow(),
    },
    { token: input.subject, msgId: `deadletter:${input.stream}:${input.streamSeq}` },
  );
}
