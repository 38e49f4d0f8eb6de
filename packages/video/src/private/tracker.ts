// Keeps one id per person across frames. Frame to frame, faces are matched to tracks by box overlap.
// A face that matches no live track (a new person, or someone coming back after leaving the frame or
// being missed) is compared by identity descriptor with every track not matched in this frame, so a
// returning person gets their old id back instead of a new one.
import type { Box } from './types.js';

export interface TrackerOptions {
  /** Minimum box IoU to continue a track from one frame to the next (default 0.3). */
  minIou?: number;
  /** A track continues by overlap only if seen within this many seconds (default 1). */
  maxGapS?: number;
  /** Largest descriptor (Euclidean) distance that still counts as the same person (default 0.55). */
  maxDescriptorDistance?: number;
}

interface Track {
  id: number;
  box: Box;
  lastSeenS: number;
  /** Running mean of the identity descriptors seen for this person. */
  descriptor?: Float32Array;
  descriptorCount: number;
}

export function iou(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y2 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

export function descriptorDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

export class PersonTracker {
  private readonly tracks: Track[] = [];
  private nextId = 0;
  private readonly minIou: number;
  private readonly maxGapS: number;
  private readonly maxDist: number;

  constructor(opts: TrackerOptions = {}) {
    this.minIou = opts.minIou ?? 0.3;
    this.maxGapS = opts.maxGapS ?? 1;
    this.maxDist = opts.maxDescriptorDistance ?? 0.55;
  }

  /** Number of distinct people seen so far. */
  get personCount(): number {
    return this.tracks.length;
  }

  /**
   * Assigns a person id to each box of one frame. `describe(i)` is called only for boxes that continue
   * no live track, to re-identify returning people.
   */
  async assign(
    timeS: number,
    boxes: Box[],
    describe: (i: number) => Promise<Float32Array>,
  ): Promise<number[]> {
    const ids: number[] = new Array(boxes.length).fill(-1);
    const used = new Set<number>();
    // Greedy matching by overlap, best pairs first.
    const pairs: { i: number; t: Track; o: number }[] = [];
    for (const t of this.tracks) {
      if (timeS - t.lastSeenS > this.maxGapS) continue;
      boxes.forEach((b, i) => {
        const o = iou(b, t.box);
        if (o >= this.minIou) pairs.push({ i, t, o });
      });
    }
    pairs.sort((a, b) => b.o - a.o);
    for (const { i, t } of pairs) {
      if (ids[i] !== -1 || used.has(t.id)) continue;
      ids[i] = t.id;
      used.add(t.id);
    }
    for (let i = 0; i < boxes.length; i++) {
      if (ids[i] !== -1) continue;
      const d = await describe(i);
      let best: Track | undefined;
      let bestDist = this.maxDist;
      for (const t of this.tracks) {
        if (used.has(t.id) || !t.descriptor) continue;
        const dist = descriptorDistance(d, t.descriptor);
        if (dist <= bestDist) {
          best = t;
          bestDist = dist;
        }
      }
      const track = best ?? this.newTrack();
      ids[i] = track.id;
      used.add(track.id);
      this.addDescriptor(track, d);
    }
    boxes.forEach((b, i) => {
      const t = this.tracks.find((x) => x.id === ids[i])!;
      t.box = b;
      t.lastSeenS = timeS;
    });
    return ids;
  }

  private newTrack(): Track {
    const t: Track = { id: this.nextId++, box: [0, 0, 0, 0], lastSeenS: -Infinity, descriptorCount: 0 };
    this.tracks.push(t);
    return t;
  }

  private addDescriptor(t: Track, d: Float32Array): void {
    if (!t.descriptor) {
      t.descriptor = Float32Array.from(d);
    } else {
      const n = t.descriptorCount;
      for (let k = 0; k < d.length; k++) t.descriptor[k] = (t.descriptor[k] * n + d[k]) / (n + 1);
    }
    t.descriptorCount++;
  }
}
