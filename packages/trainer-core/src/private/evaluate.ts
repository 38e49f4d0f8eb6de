// The experiments' evaluation on the EMT test splits, with the paper's metrics (packages/metrics):
// ER accuracy and weighted F1 over MELD's 7 emotions and MSA Acc-2 in both conventions by
// constrained classification (the answer is the label whose text the model finds most likely), and
// ECPE pair F1 on ECF from generated answers. `limit` evaluates the first records of each test set
// (EMT shards are shuffled with a seed, so that is a fixed random subset).
import { type EmtRecord, readRecords } from '@emoverse/emt';
import { PROMPT_HEAD_SHARE, type ResultRow } from '@emoverse/m2se';
import {
  type EcpeReport,
  type ErReport,
  ecpeScores,
  erMajorityBaseline,
  erScores,
  MELD_EMOTIONS,
  type MeldEmotion,
  type MsaReport,
  msaMajorityBaseline,
  msaScores,
  parseEcpePairs,
  SENTIMENTS,
  type Sentiment,
  sentimentScore,
} from '@emoverse/metrics';

/** What evaluation needs of a model (packages/models' EmoVerseLM). */
export interface EvalModel {
  readonly tokenizer: { encode(text: string, opts?: { addSpecialTokens?: boolean }): number[] };
  score(
    examples: readonly { messages: { role: string; content: string }[] }[],
    candidates: readonly string[],
  ): Promise<{ best: number[] }>;
  generate(
    examples: readonly { messages: { role: string; content: string }[] }[],
    o: { maxNewTokens: number },
  ): Promise<{ text: string[] }>;
}

export interface EvalOptions {
  /** Records per test set (all when absent). */
  limit?: number;
  batchSize?: number;
  /** Prompts are cut (from the start) to this many tokens; the model's context must hold it plus the answer. */
  maxPromptTokens?: number;
  maxNewTokens?: number;
  onProgress?: (task: string, done: number, total: number) => void;
}

export interface EvalReport {
  er?: ErReport & { n: number };
  msa?: MsaReport & { n: number };
  ecpe?: EcpeReport & { n: number };
  /** Every answer, for re-scoring: task, record id, answer, gold. */
  answers: { task: string; id: string; answer: string; gold: string }[];
}

/** The answer texts the EMT builder writes ("Joy.", "Negative."). */
const label = (s: string) => `${s[0].toUpperCase()}${s.slice(1)}.`;

async function testRecords(
  emtDir: string,
  task: 'er' | 'msa' | 'ecpe',
  limit?: number,
): Promise<EmtRecord[]> {
  const out: EmtRecord[] = [];
  for await (const r of readRecords(emtDir, { task, split: 'test' })) {
    out.push(r);
    if (limit !== undefined && out.length >= limit) break;
  }
  return out;
}

/**
 * Cuts the middle of a query until it fits the token budget, keeping its start and (mostly) its end,
 * the way training cut its prompts (encodeExample): EMT's ECPE queries end with the target utterance.
 */
function fitPrompt(model: EvalModel, query: string, maxTokens: number): string {
  let q = query;
  for (let i = 0; i < 8; i++) {
    const n = model.tokenizer.encode(q, { addSpecialTokens: false }).length;
    if (n <= maxTokens) return q;
    const keep = Math.floor(q.length * (maxTokens / n) * 0.95);
    const head = Math.floor(keep * PROMPT_HEAD_SHARE);
    q = q.slice(0, head) + q.slice(q.length - (keep - head));
  }
  return q;
}

async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  run: (batch: T[]) => Promise<R[]>,
  progress?: (done: number) => void,
) {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await run(items.slice(i, i + size))));
    progress?.(Math.min(items.length, i + size));
  }
  return out;
}

export async function evaluateOnEmt(
  model: EvalModel,
  emtDir: string,
  tasks: readonly ('er' | 'msa' | 'ecpe')[],
  options: EvalOptions = {},
): Promise<EvalReport> {
  const size = options.batchSize ?? 16;
  const maxPrompt = options.maxPromptTokens ?? 320;
  const ask = (r: EmtRecord) => ({
    messages: [{ role: 'user', content: fitPrompt(model, r.query, maxPrompt) }],
  });
  const report: EvalReport = { answers: [] };

  if (tasks.includes('er')) {
    const recs = await testRecords(emtDir, 'er', options.limit);
    const candidates = MELD_EMOTIONS.map(label);
    const best = await inBatches(
      recs,
      size,
      async (b) => (await model.score(b.map(ask), candidates)).best,
      (d) => options.onProgress?.('ER', d, recs.length),
    );
    const preds = best.map((i) => MELD_EMOTIONS[i]);
    const golds = recs.map((r) => r.meta.emotion as MeldEmotion);
    recs.forEach((r, i) => {
      report.answers.push({ task: 'er', id: r.id, answer: candidates[best[i]], gold: r.response });
    });
    report.er = { ...erScores(preds, golds), n: recs.length };
  }
  if (tasks.includes('msa')) {
    const recs = (await testRecords(emtDir, 'msa', options.limit)).filter((r) => r.source === 'meld');
    const candidates = SENTIMENTS.map(label);
    const best = await inBatches(
      recs,
      size,
      async (b) => (await model.score(b.map(ask), candidates)).best,
      (d) => options.onProgress?.('MSA', d, recs.length),
    );
    const golds = recs.map((r) => r.meta.sentiment as Sentiment);
    recs.forEach((r, i) => {
      report.answers.push({ task: 'msa', id: r.id, answer: candidates[best[i]], gold: r.response });
    });
    report.msa = {
      ...msaScores(
        best.map((i) => sentimentScore(SENTIMENTS[i])),
        golds.map(sentimentScore),
      ),
      n: recs.length,
    };
  }
  if (tasks.includes('ecpe')) {
    const recs = await testRecords(emtDir, 'ecpe', options.limit);
    const texts = await inBatches(
      recs,
      size,
      async (b) => (await model.generate(b.map(ask), { maxNewTokens: options.maxNewTokens ?? 24 })).text,
      (d) => options.onProgress?.('ECPE', d, recs.length),
    );
    // per-target records of one conversation are merged by the metric (documents keyed by conversation)
    const doc = (r: EmtRecord, text: string) => ({
      conversationId: r.meta.conversation ?? r.sourceId,
      pairs: parseEcpePairs(text),
    });
    recs.forEach((r, i) => {
      report.answers.push({ task: 'ecpe', id: r.id, answer: texts[i], gold: r.response });
    });
    report.ecpe = {
      ...ecpeScores(
        recs.map((r, i) => doc(r, texts[i])),
        recs.map((r) => doc(r, r.response)),
      ),
      n: recs.length,
    };
  }
  return report;
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

/** Majority-class rows: the train set's most frequent label, scored on the (same subset of the) test set. */
export async function majorityBaselineRows(
  emtDir: string,
  options: { limit?: number } = {},
): Promise<ResultRow[]> {
  const emotions = async (split: 'train' | 'test', limit?: number) => {
    const out: MeldEmotion[] = [];
    for await (const r of readRecords(emtDir, { task: 'er', split })) {
      out.push(r.meta.emotion as MeldEmotion);
      if (limit !== undefined && out.length >= limit) break;
    }
    return out;
  };
  const sentiments = async (split: 'train' | 'test', limit?: number) => {
    const out: Sentiment[] = [];
    for await (const r of readRecords(emtDir, { task: 'msa', split })) {
      if (r.source !== 'meld') continue;
      out.push(r.meta.sentiment as Sentiment);
      if (limit !== undefined && out.length >= limit) break;
    }
    return out;
  };
  const er = erMajorityBaseline(await emotions('train'), await emotions('test', options.limit));
  const msa = msaMajorityBaseline(await sentiments('train'), await sentiments('test', options.limit));
  return [
    {
      name: 'majority class',
      kind: 'baseline',
      meldAcc: er.accuracy,
      meldWf1: er.weightedF1,
      acc2NegNonNeg: msa.nonNegative.accuracy,
      acc2NegPos: msa.negPos.accuracy,
      ecpeF1: 0,
      note: `always "${er.label}" / "${msa.label}"; ECPE: no pairs`,
    },
  ];
}

/** The paper's reported number for comparison (EmoVerse, a pretrained 4B model; MELD WF1). */
export const PAPER_REFERENCE: ResultRow = {
  name: 'paper: EmoVerse-4B (M2SE)',
  kind: 'reference',
  meldWf1: 0.6674,
  note: 'reported in the paper; pretrained 4B model',
};
