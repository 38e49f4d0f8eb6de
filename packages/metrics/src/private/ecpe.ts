// ECPE (emotion-cause pair extraction) scores.
//  - pair P/R/F1: a predicted (emotion utterance, cause utterance) pair is right when the same pair is gold
//    in the same conversation (the ECF/MECPE convention; the emotion label is not checked);
//  - emotion-weighted F1 (SemEval-2024 Task 3): per emotion class, a pair is right when emotion utterance,
//    cause utterance and emotion all match; the six per-class F1s are averaged with weights = each class's
//    share of the gold pairs.
import { MELD_EMOTIONS, type MeldEmotion } from './labels.js';
import type { EcpePair } from './parse.js';

/** The pairs of one conversation (or one target utterance of it; documents are merged by id). */
export interface EcpeDocument {
  conversationId: string;
  pairs: readonly EcpePair[];
}

export interface Prf {
  precision: number;
  recall: number;
  f1: number;
  tp: number;
  predicted: number;
  gold: number;
}

export interface EcpeReport {
  pair: Prf;
  emotionWeightedF1: number;
  perEmotion: Partial<Record<MeldEmotion, Prf>>;
}

/** P/R/F1 from counts; 0 (not NaN) when a denominator is 0. */
export function prf(tp: number, predicted: number, gold: number): Prf {
  const precision = predicted === 0 ? 0 : tp / predicted;
  const recall = gold === 0 ? 0 : tp / gold;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, tp, predicted, gold };
}

function keyed(docs: readonly EcpeDocument[], withEmotion: boolean): Map<string, MeldEmotion | undefined> {
  const out = new Map<string, MeldEmotion | undefined>();
  for (const d of docs) {
    for (const p of d.pairs) {
      const k = `${d.conversationId}|${p.emotionUtt}|${p.causeUtt}${withEmotion ? `|${p.emotion ?? ''}` : ''}`;
      out.set(k, p.emotion);
    }
  }
  return out;
}

/**
 * Scores predicted pairs against gold pairs. A predicted pair that states no emotion takes the gold emotion
 * of its emotion utterance (the paper's per-target prompt gives the emotion in the query, so an answer
 * "6,5" is "6_disgust,5").
 */
export function ecpeScores(predictions: readonly EcpeDocument[], golds: readonly EcpeDocument[]): EcpeReport {
  const goldEmotion = new Map<string, MeldEmotion>();
  for (const d of golds) {
    for (const p of d.pairs) if (p.emotion) goldEmotion.set(`${d.conversationId}|${p.emotionUtt}`, p.emotion);
  }
  predictions = predictions.map((d) => ({
    conversationId: d.conversationId,
    pairs: d.pairs.map((p) => {
      const e = p.emotion ?? goldEmotion.get(`${d.conversationId}|${p.emotionUtt}`);
      return e ? { ...p, emotion: e } : p;
    }),
  }));
  const goldPairs = keyed(golds, false);
  const predPairs = keyed(predictions, false);
  let tp = 0;
  for (const k of predPairs.keys()) if (goldPairs.has(k)) tp++;
  const pair = prf(tp, predPairs.size, goldPairs.size);

  const goldE = keyed(golds, true);
  const predE = keyed(predictions, true);
  const perEmotion: Partial<Record<MeldEmotion, Prf>> = {};
  let weighted = 0;
  let goldWithEmotion = 0;
  for (const e of MELD_EMOTIONS) {
    if (e === 'neutral') continue;
    let g = 0;
    let p = 0;
    let t = 0;
    for (const em of goldE.values()) if (em === e) g++;
    for (const [k, em] of predE) {
      if (em !== e) continue;
      p++;
      if (goldE.has(k)) t++;
    }
    if (g === 0 && p === 0) continue;
    perEmotion[e] = prf(t, p, g);
    weighted += perEmotion[e]!.f1 * g;
    goldWithEmotion += g;
  }
  return { pair, emotionWeightedF1: goldWithEmotion === 0 ? 0 : weighted / goldWithEmotion, perEmotion };
}
