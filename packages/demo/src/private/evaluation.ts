// Stage 5: the evaluation table. Test records of the EMT build (MELD test for ER and MSA, ECF test for
// ECPE; the shards are shuffled with the build's seed, so the first N are a random subset) are sent to
// the gateway as the task each query asks for, and scored with the paper's metrics: ER Acc and
// weighted F1, MSA Acc-2 (negative vs non-negative, and negative vs positive without neutral), ECPE pair
// F1. ER and ECPE go through @emoverse/serving's ms-swift evaluator (the code of `npm run eval:swift`).
import { type EmtRecord, readRecords, type Task } from '@emoverse/emt';
import {
  ecpeScores,
  erMajorityBaseline,
  erScoresFromText,
  type MeldEmotion,
  type MsaReport,
  msaMajorityBaseline,
  msaScoresFromText,
  parseEcpePairs,
  type Sentiment,
  trainBowClassifier,
} from '@emoverse/metrics';
import { evaluateSwift, type SwiftClient } from '@emoverse/serving';
import { type ProgressWriter, progress } from './progress.js';
import type { GatewayApi } from './serving.js';

export interface EvalRow {
  name: string;
  erAcc?: number;
  erWf1?: number;
  /** Acc-2, negative vs non-negative (all samples). */
  acc2NonNeg?: number;
  /** Acc-2, negative vs positive (gold neutral left out). */
  acc2NegPos?: number;
  ecpeF1?: number;
  note?: string;
}

export interface EvaluationResult {
  n: { er: number; msa: number; ecpe: number };
  model: EvalRow;
  baseline: EvalRow;
  /** TF-IDF bag-of-words logistic regression (the experiment's baseline), trained on the train split. */
  bagOfWords: EvalRow;
  paper: EvalRow;
  failures: number;
  /** A few answers for the report. */
  examples: { task: string; query: string; gold: string; answer: string }[];
  /** Every answer, for re-scoring. */
  answers: { task: string; id: string; gold: string; answer: string | null }[];
  seconds: number;
}

async function firstN(dir: string, task: Task, split: 'train' | 'test', n: number): Promise<EmtRecord[]> {
  const out: EmtRecord[] = [];
  if (n <= 0) return out;
  for await (const r of readRecords(dir, { task, split })) {
    out.push(r);
    if (out.length >= n) break;
  }
  return out;
}

async function trainLabels(dir: string, task: Task, key: string): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readRecords(dir, { task, split: 'train' })) {
    const v = (r.meta as Record<string, unknown> | undefined)?.[key];
    if (typeof v === 'string' && v) out.push(v);
  }
  return out;
}

/** The utterance of a MELD ER/MSA query ("The person says: '<text>' <emotion> Please ..."). */
export function utteranceOf(query: string): string | undefined {
  const m = /^The person says: '([\s\S]*)' <emotion> /.exec(query);
  return m?.[1];
}

/**
 * The bag-of-words baseline on the evaluated ER and MSA records: TF-IDF word and char n-grams, logistic
 * regression C=4 (packages/metrics), trained on up to `trainRecords` train utterances per task.
 */
async function bagOfWordsRow(
  dir: string,
  trainRecords: number,
  er: readonly EmtRecord[],
  msa: readonly EmtRecord[],
): Promise<EvalRow> {
  const predict = async (task: 'er' | 'msa', key: string, recs: readonly EmtRecord[]) => {
    if (recs.length === 0) return undefined;
    const train = await firstN(dir, task, 'train', trainRecords);
    const bow = trainBowClassifier(
      train.map((r) => utteranceOf(r.query) ?? ''),
      train.map((r) => String((r.meta as Record<string, unknown>)[key])),
      { C: 4 },
    );
    return bow
      .predict(recs.map((r) => utteranceOf(r.query) ?? ''))
      .map((l) => `${l[0].toUpperCase()}${l.slice(1)}.`);
  };
  const erAnswers = await predict('er', 'emotion', er);
  const msaAnswers = await predict('msa', 'sentiment', msa);
  const erReport =
    erAnswers &&
    erScoresFromText(
      erAnswers,
      er.map((r) => r.response),
    );
  const msaReport =
    msaAnswers &&
    msaScoresFromText(
      msaAnswers,
      msa.map((r) => r.response),
    );
  return {
    name: `bag-of-words LR (trained on ${trainRecords >= 9_000 ? 'all' : trainRecords} train utterances)`,
    erAcc: erReport?.accuracy,
    erWf1: erReport?.weightedF1,
    acc2NonNeg: msaReport?.nonNegative.accuracy,
    acc2NegPos: msaReport?.negPos.accuracy,
  };
}

async function pool<T>(items: readonly T[], concurrency: number, f: (x: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (next < items.length) {
        const i = next++;
        await f(items[i], i);
      }
    }),
  );
}

export async function runEvaluation(
  gw: GatewayApi,
  o: {
    datasetDir: string;
    perTask: { er: number; msa: number; ecpe: number };
    /** Train utterances per task the bag-of-words baseline learns from. */
    bowTrainRecords: number;
    out?: ProgressWriter;
  },
): Promise<EvaluationResult> {
  const t0 = performance.now();
  const [er, msa, ecpe] = await Promise.all([
    firstN(o.datasetDir, 'er', 'test', o.perTask.er),
    firstN(o.datasetDir, 'msa', 'test', o.perTask.msa),
    firstN(o.datasetDir, 'ecpe', 'test', o.perTask.ecpe),
  ]);
  const total = er.length + msa.length + ecpe.length;
  const bar = progress('evaluation (test sets)', total, o.out);
  let done = 0;
  const tick = (task: string) => bar.update(++done, { status: task });
  const timeoutMs = 120_000;
  try {
    // ER and ECPE: the ms-swift evaluator (query -> task -> gateway RPC -> paper metrics).
    const client: SwiftClient = {
      emotion: async ({ text }) => {
        const r = await gw.emotion({ input: { text } }, { timeoutMs });
        tick('ER');
        return { rawText: r.rawText || r.label };
      },
      emotionCausePairs: async ({ conversation, target }) => {
        const r = await gw.emotionCausePairs(
          {
            input: {
              history: conversation.map((t) => ({ speaker: t.speaker, text: t.text, emotion: t.emotion })),
            },
            target,
          },
          { timeoutMs },
        );
        tick('ECPE');
        return { rawText: r.rawText };
      },
    };
    const swift = await evaluateSwift(
      [...er, ...ecpe].map((r) => ({ query: r.query, response: r.response })),
      client,
      // MELD/ECF videos are not in the shared folder: records are answered from text.
      { readMedia: async () => undefined, concurrency: 4 },
    );
    // MSA: the gateway's Sentiment RPC on the utterance.
    const msaAnswers: string[] = new Array(msa.length).fill('');
    let msaFailures = 0;
    await pool(msa, 4, async (r, i) => {
      try {
        const text = utteranceOf(r.query);
        if (!text) throw new Error('not a MELD sentiment query');
        const a = await gw.sentiment({ input: { text } }, { timeoutMs });
        msaAnswers[i] = a.rawText || a.label;
      } catch {
        msaFailures++;
      } finally {
        tick('MSA');
      }
    });
    const msaReport: MsaReport | undefined = msa.length
      ? msaScoresFromText(
          msaAnswers,
          msa.map((r) => r.response),
        )
      : undefined;

    const erLabels = er.map((r) => (r.meta as Record<string, string>).emotion as MeldEmotion);
    const msaLabels = msa.map((r) => (r.meta as Record<string, string>).sentiment as Sentiment);
    const erBase = er.length
      ? erMajorityBaseline((await trainLabels(o.datasetDir, 'er', 'emotion')) as MeldEmotion[], erLabels)
      : undefined;
    const msaBase = msa.length
      ? msaMajorityBaseline((await trainLabels(o.datasetDir, 'msa', 'sentiment')) as Sentiment[], msaLabels)
      : undefined;
    const ecpeRows = swift.rows.filter((r) => r.task === 'ecpe');
    // ECPE floor: every target utterance is its own cause (the most frequent pair type in ECF).
    const selfCause = ecpe.length
      ? ecpeScores(
          ecpe.map((r, i) => {
            const t = Number((r.meta as Record<string, string>).target);
            return { conversationId: String(i), pairs: parseEcpePairs(`${t},${t}`) };
          }),
          ecpe.map((r, i) => ({ conversationId: String(i), pairs: parseEcpePairs(r.response) })),
        ).pair.f1
      : undefined;
    const bagOfWords = await bagOfWordsRow(o.datasetDir, o.bowTrainRecords, er, msa);
    const failures = swift.rows.filter((r) => r.error).length + msaFailures;
    bar.finish(failures ? `${failures} failed calls` : undefined);

    const answers = [
      ...swift.rows.map((r, i) => ({
        task: r.task,
        id: (i < er.length ? er[i] : ecpe[i - er.length]).id,
        gold: r.gold,
        answer: r.answer,
      })),
      ...msa.map((r, i) => ({ task: 'msa', id: r.id, gold: r.response, answer: msaAnswers[i] })),
    ];
    const example = (task: string) => {
      const a = answers.find((x) => x.task === task && x.answer);
      const rec = [...er, ...msa, ...ecpe].find((r) => r.id === a?.id);
      return a && rec ? [{ task, query: rec.query, gold: a.gold, answer: a.answer ?? '' }] : [];
    };
    return {
      n: { er: er.length, msa: msa.length, ecpe: ecpeRows.length },
      model: {
        name: 'EmoVerse (emoverse-nano, M2SE) via gateway',
        erAcc: swift.er?.accuracy,
        erWf1: swift.er?.weightedF1,
        acc2NonNeg: msaReport?.nonNegative.accuracy,
        acc2NegPos: msaReport?.negPos.accuracy,
        ecpeF1: swift.ecpe?.pair.f1,
      },
      baseline: {
        name: `majority class (ER: ${erBase?.label ?? '-'}, MSA: ${msaBase?.label ?? '-'}, ECPE: self-cause)`,
        erAcc: erBase?.accuracy,
        erWf1: erBase?.weightedF1,
        acc2NonNeg: msaBase?.nonNegative.accuracy,
        acc2NegPos: msaBase?.negPos.accuracy,
        ecpeF1: selfCause,
      },
      bagOfWords,
      paper: {
        name: 'M2SE paper (EmoVerse-4B, full test sets)',
        erWf1: 0.6674,
        note: 'pretrained 4B model; only MELD WF1 is quoted here',
      },
      failures,
      examples: [...example('er'), ...example('msa'), ...example('ecpe')],
      answers,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    bar.fail((e as Error).message);
    throw e;
  }
}
