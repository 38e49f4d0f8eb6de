import { type Delivery, events } from '@emoverse/bus';
import type { TimeSpan, VideoSubmitted } from '@emoverse/proto';

/**
 * Shell of the video.submitted handler: one (empty) FrameBatch per span, so the pipeline and its
 * contract (one batch sequence per span, span_count set) can be exercised end to end. The real
 * decoding, letterboxing and face tracking replace the body (issue 5).
 */
export async function onVideoSubmitted(video: VideoSubmitted, delivery: Delivery): Promise<void> {
  const spans: Array<TimeSpan | undefined> = video.spans.length > 0 ? video.spans : [undefined];
  for (const [spanIndex, span] of spans.entries()) {
    await delivery.publish(
      events.framesExtracted,
      {
        jobId: video.jobId,
        spanIndex,
        span,
        spanCount: spans.length,
        batchIndex: 0,
        batchCount: 1,
        fps: video.fps,
        attributes: video.attributes,
      },
      { key: `span-${spanIndex}` },
    );
  }
}
