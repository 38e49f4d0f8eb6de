// FER records need a caption of the peak frame: AU_common(f, e) = AU_frame(f) ∩ AU_emotion(e), each common AU
// written as text. That logic belongs to @emoverse/facs; the EMT builder only needs this small interface,
// so any captioner (facs, or a test's) can be passed in.
import { readFileSync } from 'node:fs';
import { AU_NAMES, type AuVector, ferCaption, loadAuEmotionTable, zeroAus } from '@emoverse/facs';
import type { MeldEmotion } from '@emoverse/metrics';
import type { LoadIssue } from './types.js';

/** AU intensities of the peak frame on OpenFace's 0-5 scale, keyed "AU01".."AU45". */
export type AuIntensities = Readonly<Record<string, number>>;

export interface FerCaptioner {
  /** The FER caption for a peak frame labelled `emotion` (neutral has a rule of its own in facs). */
  auCommon(auIntensities: AuIntensities, emotion: MeldEmotion): { caption: string; aus: string[] };
}

/**
 * Peak-frame AUs per clip, keyed by the record's video path ("MELD/train/dia0_utt0.mp4") or source id.
 * null = the clip was scored and no face was found.
 */
export type PeakAus = ReadonlyMap<string, AuIntensities | null>;

/**
 * The FER captioner of @emoverse/facs: AU_common(f, e) with the AU lists and phrases of au_emotion.json
 * (`<shared>/data/facs/au_emotion.json`), AUs active at intensity >= threshold.
 */
export function facsCaptioner(auEmotionJson: string, threshold = 1): FerCaptioner {
  const table = loadAuEmotionTable(auEmotionJson);
  return {
    auCommon(aus, emotion) {
      const v: AuVector = { ...zeroAus() };
      for (const k of AU_NAMES) if (Number.isFinite(aus[k])) v[k] = aus[k];
      const c = ferCaption(v, table, emotion, threshold);
      return { caption: c.text, aus: c.aus };
    },
  };
}

/**
 * Reads peak-frame AUs from JSONL, one clip a line: {"video": "MELD/train/dia0_utt0.mp4", "aus": {"AU06": 2.1, ...}}
 * ("id" instead of "video" names a source id; "aus": null = no face). Bad lines are issues.
 */
export function loadPeakAus(file: string): {
  peakAus: Map<string, AuIntensities | null>;
  issues: LoadIssue[];
} {
  const peakAus = new Map<string, AuIntensities | null>();
  const issues: LoadIssue[] = [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { peakAus, issues: [{ file, line: 0, reason: `cannot read: ${(e as Error).message}` }] };
  }
  text.split(/\r?\n/).forEach((l, k) => {
    if (!l.trim()) return;
    try {
      const o = JSON.parse(l);
      const key = typeof o.video === 'string' ? o.video : typeof o.id === 'string' ? o.id : '';
      const ok =
        o.aus === null ||
        (typeof o.aus === 'object' && Object.values(o.aus).every((v) => typeof v === 'number'));
      if (!key || !ok) throw new Error('needs "video" or "id", and "aus" as {AU: number} or null');
      peakAus.set(key, o.aus);
    } catch (e) {
      issues.push({ file, line: k + 1, reason: (e as Error).message });
    }
  });
  return { peakAus, issues };
}
