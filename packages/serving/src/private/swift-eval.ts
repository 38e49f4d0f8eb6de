// Evaluation over files in ms-swift format, the format of the paper's released test files:
// a list of {query, response, videos | images}. Each query is sent to the gateway as the task it
// asks for (ER or ECPE, found from the query itself), the answers are scored with the paper's
// metrics, and every record's raw answer is kept so that others can re-score a run.
// The gateway is reached through the SwiftClient interface; the CLI implements it over gRPC.

import {
  type EcpeReport,
  type ErReport,
  ecpeScores,
  erScoresFromText,
  parseEcpePairs,
} from '@emoverse/metrics';
import { detectTask, parseEcpeQuery, parseEmotionQuery, type Task } from './prompts.js';
import type { Turn } from './validation.js';

export interface SwiftRecord {
  query: string;
  response: string;
  videos?: string[];
  images?: string[];
}

/** Parses a JSON array or JSON Lines file of records; errors name the record or line. */
export function parseSwiftRecords(text: string, source = 'input'): SwiftRecord[] {
  const trimmed = text.trim();
  let raw: unknown[];
  if (trimmed.startsWith('[')) {
    try {
      raw = JSON.parse(trimmed);
    } catch (e) {
      throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
    }
  } else {
    raw = [];
    trimmed.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        raw.push(JSON.parse(line));
      } catch {
        throw new Error(`${source}:${i + 1}: not valid JSON`);
      }
    });
  }
  return raw.map((r, i) => {
    const rec = r as Partial<SwiftRecord>;
    if (typeof rec?.query !== 'string' || typeof rec.response !== 'string') {
      throw new Error(`${source}: record ${i} lacks a string query or response`);
    }
    const paths = (x: unknown) =>
      Array.isArray(x) ? x.filter((p): p is string => typeof p === 'string') : undefined;
    return { query: rec.query, response: rec.response, videos: paths(rec.videos), images: paths(rec.images) };
  });
}

export interface SwiftMedia {
  video?: Uint8Array;
  image?: Uint8Array;
}

/** The two gateway calls the released test files need. */
export interface SwiftClient {
  emotion(req: { text: string; media?: SwiftMedia }): Promise<{ rawText: string }>;
  emotionCausePairs(req: {
    conversation: Turn[];
    target: number;
    media?: SwiftMedia;
  }): Promise<{ rawText: string }>;
}

export interface SwiftEvalOptions {
  /** Reads a media file a record names; resolves undefined when it does not exist. */
  readMedia: (path: string) => Promise<Uint8Array | undefined>;
  /** Requests in flight at once (the gateway batches them). Default 8. */
  concurrency?: number;
}

export interface SwiftRow {
  index: number;
  task: Task | 'unknown';
  gold: string;
  /** The model's raw answer; null when the call failed or the task is not supported. */
  answer: string | null;
  error?: string;
}

export interface SwiftEvalReport {
  rows: SwiftRow[];
  /** Media files named by records but not found; those records were answered from text. */
  missingMedia: { index: number; path: string }[];
  er?: ErReport;
  ecpe?: EcpeReport;
  /** The metrics line, e.g. `acc=0.6250 wf1=0.5812` or `ecpe_f1=0.4000`. */
  summary: string;
}

async function loadMedia(
  record: SwiftRecord,
  index: number,
  options: SwiftEvalOptions,
  missing: { index: number; path: string }[],
): Promise<SwiftMedia | undefined> {
  const video = record.videos?.[0];
  const image = record.images?.[0];
  const path = video ?? image;
  if (!path) return undefined;
  const bytes = await options.readMedia(path);
  if (!bytes) {
    missing.push({ index, path });
    return undefined;
  }
  return video ? { video: bytes } : { image: bytes };
}

async function answer(record: SwiftRecord, task: Task | undefined, client: SwiftClient, media?: SwiftMedia) {
  if (task === 'er') {
    const q = parseEmotionQuery(record.query);
    if (!q) throw new Error('the ER query does not follow the released format');
    return (await client.emotion({ text: q.text, media })).rawText;
  }
  if (task === 'ecpe') {
    const q = parseEcpeQuery(record.query);
    if (!q) throw new Error('the ECPE query does not follow the released format');
    return (await client.emotionCausePairs({ ...q, media })).rawText;
  }
  throw new Error(
    task ? `task ${task} is not evaluated from ms-swift files` : 'the query asks for no known task',
  );
}

export async function evaluateSwift(
  records: SwiftRecord[],
  client: SwiftClient,
  options: SwiftEvalOptions,
): Promise<SwiftEvalReport> {
  const rows: SwiftRow[] = new Array(records.length);
  const missingMedia: { index: number; path: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < records.length) {
      const index = next++;
      const record = records[index];
      const task = detectTask(record.query);
      const row: SwiftRow = { index, task: task ?? 'unknown', gold: record.response, answer: null };
      try {
        const media = await loadMedia(record, index, options, missingMedia);
        row.answer = await answer(record, task, client, media);
      } catch (e) {
        row.error = (e as Error).message;
      }
      rows[index] = row;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  missingMedia.sort((a, b) => a.index - b.index);

  const erRows = rows.filter((r) => r.task === 'er');
  const ecpeRows = rows.filter((r) => r.task === 'ecpe');
  const report: SwiftEvalReport = { rows, missingMedia, summary: '' };
  const parts: string[] = [];
  if (erRows.length) {
    report.er = erScoresFromText(
      erRows.map((r) => r.answer ?? ''),
      erRows.map((r) => r.gold),
    );
    parts.push(`acc=${report.er.accuracy.toFixed(4)} wf1=${report.er.weightedF1.toFixed(4)}`);
  }
  if (ecpeRows.length) {
    const doc = (r: SwiftRow, text: string) => ({
      conversationId: String(r.index),
      pairs: parseEcpePairs(text),
    });
    report.ecpe = ecpeScores(
      ecpeRows.map((r) => doc(r, r.answer ?? '')),
      ecpeRows.map((r) => doc(r, r.gold)),
    );
    parts.push(`ecpe_f1=${report.ecpe.pair.f1.toFixed(4)}`);
  }
  report.summary = parts.join(' ') || 'no ER or ECPE records';
  return report;
}
