import { type Delivery, events } from '@emoverse/bus';
import type { FrameBatch } from '@emoverse/proto';

/**
 * Shell of the frames.extracted handler: when the last batch of a span arrives, publish that span's
 * AuScored (one per job and span). No faces are scored yet; the real AU estimation, S_f (eq. 1)
 * and peak selection (eq. 2) replace the body (issue 5).
 */
export async function onFrameBatch(batch: FrameBatch, delivery: Delivery): Promise<void> {
  const last = batch.batchCount === 0 || batch.batchIndex === batch.batchCount - 1;
  if (!last) return;
  await delivery.publish(
    events.auScored,
    {
      jobId: batch.jobId,
      spanIndex: batch.spanIndex,
      span: batch.span,
      spanCount: batch.spanCount,
      hasFace: false,
      attributes: batch.attributes,
    },
    { key: `span-${batch.spanIndex}` },
  );
}
