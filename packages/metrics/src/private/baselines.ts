// Majority-class baselines, the floor every results table row is read against.
import { classificationReport } from './classification.js';
import { type EcpeDocument, type EcpeReport, ecpeScores } from './ecpe.js';
import { MELD_EMOTIONS, type MeldEmotion, type Sentiment } from './labels.js';
import { type MsaReport, msaScores, sentimentScore } from './msa.js';

/** The most frequent label (ties broken by first appearance, so the result is deterministic). */
export function majorityClass<L extends string>(labels: readonly L[]): L {
  if (labels.length === 0) throw new Error('majorityClass of an empty list');
  const counts = new Map<L, number>(); // a Map iterates in insertion order = first appearance
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let best = labels[0];
  for (const [l, c] of counts) if (c > counts.get(best)!) best = l;
  return best;
}

export interface ErBaseline {
  label: MeldEmotion;
  accuracy: number;
  weightedF1: number;
}

/** Always answer the train set's majority emotion; scored on the test labels. */
export function erMajorityBaseline(
  trainLabels: readonly MeldEmotion[],
  testLabels: readonly MeldEmotion[],
): ErBaseline {
  const label = majorityClass(trainLabels);
  const r = classificationReport(
    testLabels.map(() => label),
    testLabels,
    MELD_EMOTIONS,
  );
  return { label, accuracy: r.accuracy, weightedF1: r.weightedF1 };
}

/** Always answer the train set's majority sentiment; Acc-2 in both conventions on the test labels. */
export function msaMajorityBaseline(
  trainLabels: readonly Sentiment[],
  testLabels: readonly Sentiment[],
): MsaReport & { label: Sentiment } {
  const label = majorityClass(trainLabels);
  const r = msaScores(
    testLabels.map(() => sentimentScore(label)),
    testLabels.map(sentimentScore),
  );
  return { ...r, label };
}

/** An emotion utterance to find causes for (the ECPE targets of a test set). */
export interface EcpeTarget {
  conversationId: string;
  emotionUtt: number;
  emotion?: MeldEmotion;
}

/**
 * The ECPE floor: every emotion utterance is its own only cause (the most frequent single pair in ECF).
 * Scored against the gold pairs of the same targets.
 */
export function ecpeSelfCauseBaseline(
  targets: readonly EcpeTarget[],
  golds: readonly EcpeDocument[],
): EcpeReport {
  return ecpeScores(
    targets.map((t) => ({
      conversationId: t.conversationId,
      pairs: [
        t.emotion
          ? { emotionUtt: t.emotionUtt, causeUtt: t.emotionUtt, emotion: t.emotion }
          : { emotionUtt: t.emotionUtt, causeUtt: t.emotionUtt },
      ],
    })),
    golds,
  );
}
