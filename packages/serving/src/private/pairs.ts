// Emotion-cause pairs from an ECPE answer such as "6_disgust,5;6_disgust,6". Tolerant of spaces,
// other separators and surrounding prose; pairs that do not parse are skipped, duplicates dropped.

export interface CausePair {
  /** 1-based index of the utterance that carries the emotion. */
  emotionUtterance: number;
  emotion: string;
  /** 1-based index of the utterance that causes it. */
  causeUtterance: number;
}

export function parseCausePairs(answer: string): CausePair[] {
  const pairs: CausePair[] = [];
  const seen = new Set<string>();
  for (const m of answer.matchAll(/(\d+)\s*_\s*([A-Za-z]+)\s*,\s*(\d+)/g)) {
    const pair = {
      emotionUtterance: Number(m[1]),
      emotion: m[2].toLowerCase(),
      causeUtterance: Number(m[3]),
    };
    const key = `${pair.emotionUtterance}_${pair.emotion},${pair.causeUtterance}`;
    if (!seen.has(key)) {
      seen.add(key);
      pairs.push(pair);
    }
  }
  return pairs;
}
