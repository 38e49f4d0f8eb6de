// Tolerant parsing of generated answers: case, punctuation and synonyms do not matter,
// and the first label-like word wins (answers such as "Joy. The speaker laughs ..." are common).
import { emotionOfWord, type MeldEmotion, type Sentiment, sentimentOfWord, words } from './labels.js';

const NEGATIONS = new Set(['not', 'no', 'never', 'isn', 'isnt']);

/** The MELD emotion an answer names, or null when it names none. "not angry" is not read as anger. */
export function parseEmotion(answer: string): MeldEmotion | null {
  const ws = words(answer);
  for (let i = 0; i < ws.length; i++) {
    const e = emotionOfWord(ws[i]);
    // "none" is neutral only when it is the whole answer; otherwise it is ordinary prose.
    if (e === undefined || (ws[i] === 'none' && ws.length > 1)) continue;
    if (i > 0 && NEGATIONS.has(ws[i - 1])) continue;
    return e;
  }
  return null;
}

export interface ParsedSentiment {
  label: Sentiment;
  /** The sentiment intensity in [-3, 3] when the answer states one. */
  score?: number;
}

const NUMBER = /[-+\u2212]?\d+(?:\.\d+)?/g;

/**
 * The sentiment an answer names: a polarity word, a score in [-3, 3], or both.
 * With no polarity word the score's sign decides (0 is neutral).
 */
export function parseSentiment(answer: string): ParsedSentiment | null {
  let label: Sentiment | undefined;
  for (const w of words(answer)) {
    label = sentimentOfWord(w);
    if (label) break;
  }
  let score: number | undefined;
  for (const m of answer.matchAll(NUMBER)) {
    const v = Number(m[0].replace('\u2212', '-'));
    if (Number.isFinite(v) && v >= -3 && v <= 3) {
      score = v;
      break;
    }
  }
  if (!label && score === undefined) return null;
  if (!label) label = score! > 0 ? 'positive' : score! < 0 ? 'negative' : 'neutral';
  return score === undefined ? { label } : { label, score };
}

/** One emotion-cause pair: utterance indices as written in the conversation (1-based in ECF). */
export interface EcpePair {
  emotionUtt: number;
  causeUtt: number;
  /** The emotion of the emotion utterance, when the answer states it. */
  emotion?: MeldEmotion;
}

// "3_surprise,1", "3, 1", "(3,1)", "3_Surprise , 1", with "," or the full-width "，" between the two.
const PAIR = /(\d+)\s*(?:_\s*([\p{L}]+))?\s*[,\uFF0C]\s*(\d+)/gu;

/**
 * Pairs from an answer such as "3_surprise,1;3_surprise,2" (the paper's format), "(3,1),(3,2)"
 * or one pair per line. Duplicates are removed, order is kept.
 */
export function parseEcpePairs(answer: string): EcpePair[] {
  const seen = new Set<string>();
  const out: EcpePair[] = [];
  for (const m of answer.matchAll(PAIR)) {
    const emotionUtt = Number(m[1]);
    const causeUtt = Number(m[3]);
    const emotion = m[2] ? (emotionOfWord(m[2].toLowerCase()) ?? undefined) : undefined;
    const key = `${emotionUtt},${causeUtt},${emotion ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(emotion ? { emotionUtt, causeUtt, emotion } : { emotionUtt, causeUtt });
  }
  return out;
}
