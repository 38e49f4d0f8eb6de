// The baselines every evaluation table carries, computed in the same run on the same records as the
// model: the majority class (of the train split), a bag-of-words logistic regression trained on the
// train split (packages/metrics' TF-IDF word 1–2 + char 2–5-grams, C = 4) for ER and MSA, and the
// positional ECPE baselines "self" and "self + previous utterance".
import type { EmtRecord } from '@emoverse/emt';
import {
  type BowClassifier,
  type EcpeTargetRecord,
  ecpeBaselineAnswer,
  type MeldEmotion,
  majorityClass,
  type Sentiment,
  trainBowClassifier,
} from '@emoverse/metrics';
import { parseEcpeQuery, parseEmotionQuery, parseSentimentQuery } from '@emoverse/serving';
import { type EvalAnswer, type EvalRecords, type EvalTask, splitRecords } from './evaluate.js';

export type BaselineName = 'majority' | 'bag-of-words' | 'ecpe-self' | 'ecpe-self-prev';

/** A baseline's answers on the evaluated records, scored like a model's answers. */
export interface BaselineAnswers {
  name: BaselineName;
  task: EvalTask;
  /** Answer texts in the EMT form ("Joy.", "Negative.", "4_joy,4;4_joy,3"), one per record. */
  answers: EvalAnswer[];
  note: string;
}

const labelText = (s: string) => `${s[0].toUpperCase()}${s.slice(1)}.`;

/** The utterance an ER or MSA record asks about. */
function utterance(task: 'er' | 'msa', r: EmtRecord): string {
  const q = task === 'er' ? parseEmotionQuery(r.query) : parseSentimentQuery(r.query);
  if (!q) throw new Error(`record ${r.id}: not an ${task.toUpperCase()} query`);
  return q.text;
}

const goldLabel = (task: 'er' | 'msa', r: EmtRecord) =>
  (task === 'er' ? r.meta.emotion : r.meta.sentiment) as MeldEmotion | Sentiment;

function answered(task: EvalTask, recs: readonly EmtRecord[], texts: readonly string[]): EvalAnswer[] {
  return recs.map((r, i) => ({ task, id: r.id, answer: texts[i], gold: r.response }));
}

/** The baselines trained on one EMT folder's train split, kept for the other runs of this process. */
const trained = new Map<string, Promise<{ majority: string; bow: BowClassifier }>>();

function trainClassifiers(emtDir: string, task: 'er' | 'msa') {
  const key = `${emtDir}\u0000${task}`;
  let t = trained.get(key);
  if (!t) {
    t = splitRecords(emtDir, task, 'train').then((train) => {
      const labels = train.map((r) => goldLabel(task, r));
      const bow = trainBowClassifier(
        train.map((r) => utterance(task, r)),
        labels,
        { C: 4 },
      );
      return { majority: majorityClass(labels), bow };
    });
    trained.set(key, t);
  }
  return t;
}

/** Majority class and bag-of-words for a classification task, trained on the train split. */
async function classificationBaselines(
  emtDir: string,
  task: 'er' | 'msa',
  recs: readonly EmtRecord[],
): Promise<BaselineAnswers[]> {
  const { majority, bow } = await trainClassifiers(emtDir, task);
  const predicted = bow.predict(recs.map((r) => utterance(task, r)));
  return [
    {
      name: 'majority',
      task,
      answers: answered(
        task,
        recs,
        recs.map(() => labelText(majority)),
      ),
      note: `always "${majority}"`,
    },
    {
      name: 'bag-of-words',
      task,
      answers: answered(task, recs, predicted.map(labelText)),
      note: 'TF-IDF word 1-2 + char 2-5-grams, logistic regression C=4, trained on the train split',
    },
  ];
}

/** "self" and "self + previous" on ECPE targets (the target's index and emotion are in the record). */
function ecpeBaselines(recs: readonly EmtRecord[]): BaselineAnswers[] {
  const target = (r: EmtRecord): EcpeTargetRecord => {
    const q = parseEcpeQuery(r.query);
    if (!q) throw new Error(`record ${r.id}: not an ECPE query`);
    return {
      targetUtt: q.target,
      emotion: q.conversation[q.target - 1].emotion ?? 'neutral',
      utterances: q.conversation.length,
    };
  };
  return [
    {
      name: 'ecpe-self',
      task: 'ecpe',
      answers: answered(
        'ecpe',
        recs,
        recs.map((r) => ecpeBaselineAnswer(target(r), 'self')),
      ),
      note: 'each emotion utterance causes itself',
    },
    {
      name: 'ecpe-self-prev',
      task: 'ecpe',
      answers: answered(
        'ecpe',
        recs,
        recs.map((r) => ecpeBaselineAnswer(target(r), 'self+previous')),
      ),
      note: 'itself and the utterance before it',
    },
  ];
}

/** Every baseline of the evaluated tasks, on exactly the records the model answered. */
export async function baselineAnswers(emtDir: string, records: EvalRecords): Promise<BaselineAnswers[]> {
  const out: BaselineAnswers[] = [];
  for (const [task, recs] of Object.entries(records) as [EvalTask, EmtRecord[]][]) {
    out.push(...(task === 'ecpe' ? ecpeBaselines(recs) : await classificationBaselines(emtDir, task, recs)));
  }
  return out;
}
