// Score's peak images: each span's peak frame as JPEG with the peak person's face box and landmarks (for the gateway's Analyze).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import type { BlobStore } from '@emoverse/bus';
import { type AuScored, type Media, type PeakImage, PeakImageSchema } from '@emoverse/proto';
import { frameImage } from '@emoverse/video';

/** The media as a file ffmpeg reads (a path as is; bytes or a blob written into `dir`); frames: none. */
async function mediaFile(media: Media, dir: string, blobs: BlobStore): Promise<string | undefined> {
  const src = media.source;
  if (src.case === 'path') return src.value;
  const path = join(dir, 'media');
  if (src.case === 'video' || src.case === 'image') await writeFile(path, src.value);
  else if (src.case === 'blob') await blobs.getToFile(src.value, path);
  else return undefined;
  return path;
}

/** The peak person's descriptor in the peak frame, when the result carries features. */
function peakDescriptor(r: AuScored): number[] | undefined {
  const face = r.faces.find((f) => f.frameIndex === r.peak?.frameIndex && f.trackId === r.peak?.trackId);
  return face?.descriptor.length ? face.descriptor : undefined;
}

/** One PeakImage per result (empty where a span has no peak), decoded at `fps` as the scores were. */
export async function peakImages(
  media: Media,
  results: AuScored[],
  fps: number,
  blobs: BlobStore,
): Promise<PeakImage[]> {
  const dir = await mkdtemp(join(tmpdir(), 'au-scorer-peak-'));
  try {
    const path = await mediaFile(media, dir, blobs);
    const out: PeakImage[] = [];
    for (const r of results) {
      const img =
        path && r.peak
          ? await frameImage(path, r.peak.timeS, { fps, descriptor: peakDescriptor(r) })
          : undefined;
      out.push(
        create(PeakImageSchema, {
          jpeg: img?.jpeg,
          width: img?.width,
          height: img?.height,
          face: img?.face
            ? { x: img.face.box[0], y: img.face.box[1], width: img.face.box[2], height: img.face.box[3] }
            : undefined,
          landmarks: img?.face?.landmarks.flatMap((p) => [p.x, p.y]) ?? [],
        }),
      );
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
