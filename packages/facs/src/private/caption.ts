// FER captions, eq. (3) of the paper: AU_common(f, e) = AU_frame(f) ∩ AU_emotion(e), each common AU then
// written as a short phrase. AU_frame(f) is the set of measured (claimed) AUs active in the peak frame
// (intensity at or above a threshold, 1.0 by default, where OpenFace's own presence classifier usually
// switches on); estimated AUs never reach a caption.
// The emotion lists and phrases come from au_emotion.json (path given by the caller).
import { readFileSync } from 'node:fs';
import { CLAIMED_AUS } from './claimed.js';
import { AU_NAMES, type AuName, type AuVector } from './types.js';

export interface AuEmotionTable {
  au: Record<string, { name: string; phrases: string[] }>;
  emotion_aus: Record<string, string[]>;
  /** Dataset label (e.g. MELD's "joy") → key of emotion_aus, or null for neutral. */
  meld_emotion_to_list: Record<string, string | null>;
  note_neutral?: string;
}

export function loadAuEmotionTable(path: string): AuEmotionTable {
  const t = JSON.parse(readFileSync(path, 'utf8')) as AuEmotionTable;
  if (!t.au || !t.emotion_aus || !t.meld_emotion_to_list) throw new Error(`${path}: not an AU/emotion table`);
  return t;
}

/** The AU list of an emotion, accepting list keys ("happy") and dataset labels ("joy"); null = neutral. */
export function auEmotion(table: AuEmotionTable, emotion: string): AuName[] | null {
  const e = emotion.trim().toLowerCase();
  const key = e in table.emotion_aus ? e : table.meld_emotion_to_list[e];
  if (key === null || e === 'neutral') return null;
  if (key === undefined || !(key in table.emotion_aus)) throw new Error(`unknown emotion: ${emotion}`);
  // AU28 has no intensity in OpenFace, so it can never be in AU_frame: keep only the 17.
  return table.emotion_aus[key].filter((a): a is AuName => (AU_NAMES as readonly string[]).includes(a));
}

/** AU_frame(f): the active AUs among `measured` (default CLAIMED_AUS), strongest first. */
export function auFrame(aus: AuVector, threshold = 1, measured: readonly AuName[] = CLAIMED_AUS): AuName[] {
  return measured.filter((a) => aus[a] >= threshold).sort((a, b) => aus[b] - aus[a]);
}

/** Eq. (3); null when the emotion has no AU list (neutral). */
export function auCommon(
  aus: AuVector,
  table: AuEmotionTable,
  emotion: string,
  threshold = 1,
): AuName[] | null {
  const list = auEmotion(table, emotion);
  if (list === null) return null;
  return auFrame(aus, threshold).filter((a) => list.includes(a));
}

export interface FerCaption {
  emotion: string;
  /** AU_common(f, e), strongest first; empty for neutral. */
  aus: AuName[];
  text: string;
}

/**
 * The caption text. Neutral has no AU list: its caption says that no expressive action units stand out
 * (the note in au_emotion.json). An emotion whose AUs are all absent from the frame says so too, rather
 * than inventing an expression.
 */
export function ferCaption(aus: AuVector, table: AuEmotionTable, emotion: string, threshold = 1): FerCaption {
  const common = auCommon(aus, table, emotion, threshold);
  if (common === null) {
    return { emotion, aus: [], text: 'neutral face: no expressive action units stand out' };
  }
  if (common.length === 0) {
    return { emotion, aus: [], text: `no action units typical of ${emotion} stand out` };
  }
  const phrases = common.map((a) => table.au[a]?.phrases[0] ?? table.au[a]?.name ?? a);
  return { emotion, aus: common, text: phrases.join(', ') };
}
