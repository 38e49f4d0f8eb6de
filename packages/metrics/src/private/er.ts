// ER (emotion recognition) on MELD: accuracy and weighted F1 over the 7 classes, the paper's Table numbers.
import { type ClassificationReport, classificationReport } from './classification.js';
import { MELD_EMOTIONS, type MeldEmotion } from './labels.js';
import { parseEmotion } from './parse.js';

export type ErReport = ClassificationReport<MeldEmotion>;

/** Scores parsed predictions (null = unparsed) against gold MELD emotions. */
export function erScores(
  predictions: readonly (MeldEmotion | null)[],
  truths: readonly MeldEmotion[],
): ErReport {
  return classificationReport(predictions, truths, MELD_EMOTIONS);
}

/** Parses each generated answer tolerantly, then scores it. Gold answers are parsed the same way. */
export function erScoresFromText(answers: readonly string[], goldAnswers: readonly string[]): ErReport {
  const truths = goldAnswers.map((g, i) => {
    const e = parseEmotion(g);
    if (!e) throw new Error(`gold answer ${i} names no MELD emotion: ${JSON.stringify(g)}`);
    return e;
  });
  return erScores(answers.map(parseEmotion), truths);
}
