// au-scorer's frames.extracted handler. A span may come in several FrameBatch messages (handled by any
// replica): each batch is kept in the object store, and the batch that completes the span scores it.
// The AuScored event's Nats-Msg-Id is fixed per (job, span), so a span completed twice (two replicas,
// or a redelivery) is still published once. The job's state moves to stage au, then done once every
// span is scored (VideoJobs in @emoverse/bus).
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type BlobStore, type Bus, blobBuckets, type Delivery, events, type VideoJobs } from '@emoverse/bus';
import { AuScoredSchema, type BlobRef, type FrameBatch, FrameBatchSchema } from '@emoverse/proto';
import { errorInfo, framesToGeometry, scoreSpan } from './scoring.js';

const batchName = (b: Pick<FrameBatch, 'jobId' | 'spanIndex' | 'batchIndex'>) =>
  `${b.jobId}/s${b.spanIndex}/batch-${b.batchIndex}.pb`;

/** All batches of the span if every one has arrived, else undefined. */
async function completeSpan(blobs: BlobStore, batch: FrameBatch): Promise<FrameBatch[] | undefined> {
  if (batch.batchCount <= 1) return [batch];
  await blobs.put(
    blobBuckets.frames,
    batchName(batch),
    toBinary(FrameBatchSchema, batch),
    'application/x-protobuf',
  );
  const all: FrameBatch[] = [];
  for (let batchIndex = 0; batchIndex < batch.batchCount; batchIndex++) {
    const ref = { bucket: blobBuckets.frames, name: batchName({ ...batch, batchIndex }) };
    if (!(await blobs.info(ref))) return undefined;
    all.push(batchIndex === batch.batchIndex ? batch : fromBinary(FrameBatchSchema, await blobs.get(ref)));
  }
  return all;
}

export function frameBatchHandler(bus: Bus, jobs: VideoJobs) {
  return async (batch: FrameBatch, _delivery: Delivery): Promise<void> => {
    const ctx = {
      jobId: batch.jobId,
      spanIndex: batch.spanIndex,
      spanCount: batch.spanCount,
      span: batch.span,
      attributes: batch.attributes,
    };
    const msgId = `au:${batch.jobId}:s${batch.spanIndex}`;
    if (batch.error) {
      // The extractor could not read the video or span: pass the error on, the job is not lost.
      const passed = create(AuScoredSchema, { ...ctx, hasFace: false, error: batch.error });
      await bus.publish(events.auScored, passed, { msgId });
      await jobs.scored(passed);
      return;
    }
    const batches = await completeSpan(bus.blobs, batch);
    if (!batches) return;
    await jobs.scoring(batch.jobId, batch.spanCount);
    const frames = batches.sort((a, b) => a.batchIndex - b.batchIndex).flatMap((b) => b.frames);
    const images = new Map<number, BlobRef>();
    for (const f of frames) if (f.image) images.set(f.index, f.image);
    const { geometry, skipped } = framesToGeometry(frames);
    const scored = scoreSpan({ ...ctx, images }, geometry);
    if (skipped > 0 && !scored.hasFace) {
      scored.error = errorInfo('NO_GEOMETRY', `${skipped} faces came without landmarks and mesh`);
    }
    await bus.publish(events.auScored, scored, { msgId });
    await jobs.scored(scored);
  };
}
