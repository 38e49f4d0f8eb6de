// Markers of handled messages, so a redelivery after a crash between handling and ack is skipped.
import { createHash } from 'node:crypto';
import type { KV } from 'nats';

/**
 * Markers of messages a durable consumer has handled, so a redelivery after a crash between
 * "handled" and "acked" is recognised and skipped. Outputs of a handler are also de-duplicated by the
 * streams (derived Nats-Msg-Id), which covers a crash before the marker is written.
 */
export class ProcessedMarkers {
  private constructor(private readonly kv: KV) {}

  /** `kv` is the bucket kvBuckets.processed, opened with its declared settings (Bus.kv). */
  static async open(kv: Promise<KV>): Promise<ProcessedMarkers> {
    return new ProcessedMarkers(await kv);
  }

  private key(consumer: string, msgId: string): string {
    // KV keys allow few characters; hash the message id.
    return `${consumer}.${createHash('sha256').update(msgId).digest('hex').slice(0, 40)}`;
  }

  async seen(consumer: string, msgId: string): Promise<boolean> {
    const entry = await this.kv.get(this.key(consumer, msgId));
    return entry !== null && entry.operation === 'PUT';
  }

  async mark(consumer: string, msgId: string): Promise<void> {
    await this.kv.put(this.key(consumer, msgId), new Uint8Array([1]));
  }
}
