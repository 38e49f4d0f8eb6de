// The experiments' evaluation on the EMT splits, through the gateway's own serving code: a saved
// model folder is loaded as the gateway loads it (serving's EmoVerseTaskModel) and every record is
// asked through serving's TaskEngine (the task prompt, batching, constrained classification, ECPE
// generation and parsing), so a reported number is what a user of the gateway gets. Each record's
// query is rebuilt from its parsed request and must equal the EMT query the model was trained on.
// The answers are scored by scores.ts, as the baselines' are.
import { type EmtRecord, readRecords } from '@emoverse/emt';
import {
  createTaskModel,
  ecpePrompt,
  emotionPrompt,
  loadedModel,
  ModelHolder,
  parseEcpeQuery,
  parseEmotionQuery,
  parseSentimentQuery,
  readCalibration,
  sentimentPrompt,
  TaskEngine,
  type TaskResult,
} from '@emoverse/serving';

export type EvalTask = 'er' | 'msa' | 'ecpe';
export type EvalSplit = 'test' | 'dev';

export interface EvalOptions {
  /** Requests per model batch (the gateway's maxBatchSize). */
  batchSize?: number;
  onProgress?: (task: string, done: number, total: number) => void;
}

/** The records evaluated, per task (read once by the caller, shared with the baselines). */
export type EvalRecords = Partial<Record<EvalTask, EmtRecord[]>>;

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

/**
 * The gateway's engine over a saved model folder, in this process (no gRPC, no worker thread), with
 * the folder's calibration.json as the gateway applies it (`calibration: false`: plain argmax, for
 * fitting one).
 */
export async function servingEngine(
  modelDir: string,
  batchSize = 16,
  options: { calibration?: boolean } = {},
): Promise<{ engine: TaskEngine; close(): Promise<void> }> {
  const calibration = options.calibration === false ? undefined : readCalibration(modelDir);
  const holder = new ModelHolder({
    load: async () => loadedModel(await createTaskModel({ dir: modelDir }), 1, calibration),
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
export function askRecord(task: EvalTask, r: EmtRecord, engine: TaskEngine): Promise<TaskResult> {
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
      const out = await askRecord(task, r, engine);
      done++;
      if (done % 100 === 0 || done === recs.length) progress?.(task.toUpperCase(), done, recs.length);
      return out;
    }),
  );
}

/** Every record's answer from a saved model folder, asked through the gateway's serving code. */
export async function evaluateModelDir(
  modelDir: string,
  records: EvalRecords,
  options: EvalOptions = {},
): Promise<EvalAnswer[]> {
  const { engine, close } = await servingEngine(modelDir, options.batchSize);
  const answers: EvalAnswer[] = [];
  try {
    for (const [task, recs] of Object.entries(records) as [EvalTask, EmtRecord[]][]) {
      const out = await ask(engine, task, recs, options.onProgress);
      recs.forEach((r, i) => {
        answers.push({ task, id: r.id, answer: out[i].text, gold: r.response });
      });
    }
  } finally {
    await close();
  }
  return answers;
}
