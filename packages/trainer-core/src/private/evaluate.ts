// The experiments' evaluation on the EMT splits, through the gateway's own serving code: a saved
// model folder is loaded as the gateway loads it (serving's EmoVerseTaskModel) and every record is
// asked through serving's TaskEngine (the task prompt, batching, constrained classification, ECPE
// generation and parsing), so a reported number is what a user of the gateway gets. Each record's
// query is rebuilt from its parsed request and must equal the EMT query the model was trained on.
// Metrics (packages/metrics): ER accuracy and weighted F1 over MELD's 7 emotions, MSA Acc-2 in both
// conventions, ECPE pair F1 as the paper's released scorer counts it and as ECF's convention does.
import { type EmtRecord, readRecords } from '@emoverse/emt';
import type { ResultRow } from '@emoverse/m2se';
import {
  type EcpeReport,
  type ErReport,
  ecpeScores,
  erScores,
  type MeldEmotion,
  type MsaReport,
  msaScores,
  parseEcpePairs,
  type Sentiment,
  sentimentScore,
} from '@emoverse/metrics';
import {
  createTaskModel,
  ecpePrompt,
  emotionPrompt,
  loadedModel,
  ModelHolder,
  parseEcpeQuery,
  parseEmotionQuery,
  parseSentimentQuery,
  sentimentPrompt,
  TaskEngine,
  type TaskResult,
} from '@emoverse/serving';

export type EvalTask = 'er' | 'msa' | 'ecpe';
export type EvalSplit = 'test' | 'dev';

export interface EvalOptions {
  /** Records per split (all when absent): for quick looks only, never for reported numbers. */
  limit?: number;
  /** Which split to score: 'test' for reported numbers, 'dev' for diagnosis and tuning. */
  split?: EvalSplit;
  /** Requests per model batch (the gateway's maxBatchSize). */
  batchSize?: number;
  onProgress?: (task: string, done: number, total: number) => void;
}

export interface EvalReport {
  er?: ErReport & { n: number };
  msa?: MsaReport & { n: number };
  ecpe?: EcpeReport & { n: number };
  /** Every answer, for re-scoring: task, record id, answer, gold. */
  answers: EvalAnswer[];
}

export interface EvalAnswer {
  task: EvalTask;
  id: string;
  answer: string;
  gold: string;
}

/** The records of one task and split (EMT shards are shuffled with a seed: a prefix is a random subset). */
export async function splitRecords(
  emtDir: string,
  task: EvalTask,
  split: EvalSplit | 'train',
  limit?: number,
): Promise<EmtRecord[]> {
  const out: EmtRecord[] = [];
  for await (const r of readRecords(emtDir, { task, split })) {
    if (task === 'msa' && r.source !== 'meld') continue;
    out.push(r);
    if (limit !== undefined && out.length >= limit) break;
  }
  if (out.length === 0) throw new Error(`${emtDir}: no ${task} records in the ${split} split`);
  return out;
}

/** The gateway's engine over a saved model folder, in this process (no gRPC, no worker thread). */
export async function servingEngine(
  modelDir: string,
  batchSize = 16,
): Promise<{ engine: TaskEngine; close(): Promise<void> }> {
  const holder = new ModelHolder({
    load: async () => loadedModel(await createTaskModel({ dir: modelDir }), 1),
    dispose: (m) => m.model.dispose(),
  });
  await holder.load(modelDir);
  const engine = new TaskEngine(holder, {
    maxBatchSize: batchSize,
    maxWaitMs: 1,
    maxQueue: Number.MAX_SAFE_INTEGER,
  });
  return {
    engine,
    close: async () => {
      engine.close();
      await holder.close();
    },
  };
}

/** The served request of an EMT record, checked to ask exactly the record's query. */
function request(task: EvalTask, r: EmtRecord, engine: TaskEngine): Promise<TaskResult> {
  const drift = (prompt: string) => {
    if (prompt !== r.query)
      throw new Error(
        `record ${r.id}: the gateway's ${task} prompt differs from the EMT query it was trained on`,
      );
  };
  if (task === 'ecpe') {
    const q = parseEcpeQuery(r.query);
    if (!q) throw new Error(`record ${r.id}: not an ECPE query`);
    drift(ecpePrompt(q.conversation, q.target));
    return engine.emotionCausePairs(q);
  }
  const parsed = task === 'er' ? parseEmotionQuery(r.query) : parseSentimentQuery(r.query);
  if (!parsed) throw new Error(`record ${r.id}: not an ${task.toUpperCase()} query`);
  drift(task === 'er' ? emotionPrompt(parsed.text) : sentimentPrompt(parsed.text));
  return task === 'er' ? engine.emotion(parsed) : engine.sentiment(parsed);
}

/** Every record through the engine, all queued at once (the batcher forms the batches), in order. */
async function ask(
  engine: TaskEngine,
  task: EvalTask,
  recs: readonly EmtRecord[],
  progress?: EvalOptions['onProgress'],
): Promise<TaskResult[]> {
  let done = 0;
  return Promise.all(
    recs.map(async (r) => {
      const out = await request(task, r, engine);
      done++;
      if (done % 100 === 0 || done === recs.length) progress?.(task.toUpperCase(), done, recs.length);
      return out;
    }),
  );
}

/** Scores a saved model folder on EMT records of `tasks`, through the gateway's serving code. */
export async function evaluateModelDir(
  modelDir: string,
  emtDir: string,
  tasks: readonly EvalTask[],
  options: EvalOptions = {},
): Promise<EvalReport> {
  const split = options.split ?? 'test';
  const { engine, close } = await servingEngine(modelDir, options.batchSize);
  const report: EvalReport = { answers: [] };
  try {
    for (const task of tasks) {
      const recs = await splitRecords(emtDir, task, split, options.limit);
      const out = await ask(engine, task, recs, options.onProgress);
      recs.forEach((r, i) => {
        report.answers.push({ task, id: r.id, answer: out[i].text, gold: r.response });
      });
      if (task === 'er') {
        const preds = out.map((o) => o.label as MeldEmotion);
        const golds = recs.map((r) => r.meta.emotion as MeldEmotion);
        report.er = { ...erScores(preds, golds), n: recs.length };
      } else if (task === 'msa') {
        const preds = out.map((o) => sentimentScore(o.label as Sentiment));
        const golds = recs.map((r) => sentimentScore(r.meta.sentiment as Sentiment));
        report.msa = { ...msaScores(preds, golds), n: recs.length };
      } else {
        report.ecpe = {
          ...ecpeReport(
            recs,
            out.map((o) => o.text),
          ),
          n: recs.length,
        };
      }
    }
  } finally {
    await close();
  }
  return report;
}

/** ECF's convention (documents keyed by conversation, pairs merged, emotion not checked). */
export function ecpeReport(recs: readonly EmtRecord[], answers: readonly string[]): EcpeReport {
  const doc = (r: EmtRecord, text: string) => ({
    conversationId: r.meta.conversation ?? r.sourceId,
    pairs: parseEcpePairs(text),
  });
  return ecpeScores(
    recs.map((r, i) => doc(r, answers[i])),
    recs.map((r) => doc(r, r.response)),
  );
}

/** The results-table row of an evaluated run. */
export function resultRow(name: string, r: EvalReport, note?: string): ResultRow {
  return {
    name,
    kind: 'experiment',
    meldAcc: r.er?.accuracy,
    meldWf1: r.er?.weightedF1,
    acc2NegNonNeg: r.msa?.nonNegative.accuracy,
    acc2NegPos: r.msa?.negPos.accuracy,
    ecpeF1: r.ecpe?.pair.f1,
    note,
  };
}

/** The paper's reported number for comparison (EmoVerse, a pretrained 4B model; MELD WF1). */
export const PAPER_REFERENCE: ResultRow = {
  name: 'paper: EmoVerse-4B (M2SE)',
  kind: 'reference',
  meldWf1: 0.6674,
  note: 'reported in the paper; pretrained 4B model',
};
