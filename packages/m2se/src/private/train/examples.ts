// EMT training examples read from JSONL shards ({query, response, images|videos, task, split}, as
// packages/emt writes them: <dataset>/<task>/<split>-NNNNN.jsonl). Files are read in sorted order and
// lines in file order, so an example's index (which the sampler's data order refers to) is stable.
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isTaskName, type TaskName } from '../tasks.js';

export interface EmtExample {
  id?: string;
  task: TaskName;
  query: string;
  response: string;
  images?: string[];
  videos?: string[];
}

/** EMT writes tasks in lower case ("msa"); recipes use the paper's names ("MSA"). */
export function taskFromRecord(task: unknown): TaskName | undefined {
  const t = typeof task === 'string' ? task.toUpperCase() : '';
  return isTaskName(t) ? t : undefined;
}

function where(file: string, line: number): string {
  return `${file}:${line}`;
}

/**
 * Reads the shards of each task (paths relative to `root`; `'*'` = mixed shards whose lines carry their
 * task). Only records of `split` are kept when a record names its split. Malformed lines fail with
 * file and line, before any compute.
 */
export async function readEmtShards(
  root: string,
  shards: Partial<Record<TaskName | '*', readonly string[]>>,
  options: { split?: string } = {},
): Promise<Partial<Record<TaskName, EmtExample[]>>> {
  const split = options.split ?? 'train';
  const out: Partial<Record<TaskName, EmtExample[]>> = {};
  const problems: string[] = [];
  for (const [key, files] of Object.entries(shards) as [TaskName | '*', readonly string[]][]) {
    for (const file of [...files].sort()) {
      const lines = createInterface({
        input: createReadStream(join(root, file)),
        crlfDelay: Number.POSITIVE_INFINITY,
      });
      let n = 0;
      for await (const line of lines) {
        n++;
        if (!line.trim()) continue;
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line);
        } catch {
          problems.push(`${where(file, n)}: not JSON`);
          continue;
        }
        const task = taskFromRecord(rec.task) ?? (key === '*' ? undefined : key);
        if (!task) {
          problems.push(`${where(file, n)}: unknown task ${JSON.stringify(rec.task)}`);
          continue;
        }
        if (key !== '*' && task !== key) {
          problems.push(`${where(file, n)}: a ${task} record in a ${key} shard`);
          continue;
        }
        if (typeof rec.query !== 'string' || typeof rec.response !== 'string') {
          problems.push(`${where(file, n)}: needs string query and response`);
          continue;
        }
        if (rec.split !== undefined && rec.split !== split) continue;
        const ex: EmtExample = { task, query: rec.query, response: rec.response };
        if (typeof rec.id === 'string') ex.id = rec.id;
        if (Array.isArray(rec.images)) ex.images = rec.images.map(String);
        if (Array.isArray(rec.videos)) ex.videos = rec.videos.map(String);
        const list = out[task] ?? [];
        list.push(ex);
        out[task] = list;
      }
      if (problems.length > 20) break;
    }
  }
  if (problems.length > 0) {
    throw new Error(`bad EMT shards:\n  - ${problems.slice(0, 20).join('\n  - ')}`);
  }
  return out;
}

/**
 * The paper-format samples in `<shared>/data/m2se_format` (ms-swift JSON: {query, response, ...}) as
 * ER and ECPE training examples: real prompts of realistic length for the training benchmarks.
 */
export function readPaperFormatSamples(sharedDir: string): { ER: EmtExample[]; ECPE: EmtExample[] } {
  const load = (file: string, task: TaskName): EmtExample[] =>
    (
      JSON.parse(readFileSync(join(sharedDir, 'data/m2se_format', file), 'utf8')) as {
        query: string;
        response: string;
      }[]
    ).map((r) => ({ task, query: r.query, response: r.response }));
  return {
    ER: load('meld_dev_er_sample.json', 'ER'),
    ECPE: load('ecf_dev_ecpe_sample.json', 'ECPE'),
  };
}

/**
 * The conversation an EMT record belongs to: its id without the utterance part
 * ("ecpe/ecf1/conv470/utt8" → "ecpe/ecf1/conv470", "eri/meld/train/dia530_utt7" →
 * "eri/meld/train/dia530"), or undefined when the id names no utterance.
 */
export function conversationOf(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const m = /^(.*)[/_]utt\d+$/.exec(id);
  return m ? m[1] : undefined;
}

/**
 * One record per conversation: the one with the longest query (ERI's history and ECPE's target grow
 * along a dialogue, so the shorter records repeat its text). Records with no conversation in their
 * id are all kept. Order is preserved: each kept record stays where it first appeared.
 */
export function longestPerConversation(examples: readonly EmtExample[]): EmtExample[] {
  const best = new Map<string, EmtExample>();
  for (const ex of examples) {
    const key = conversationOf(ex.id);
    if (key === undefined) continue;
    const held = best.get(key);
    if (!held || ex.query.length > held.query.length) best.set(key, ex);
  }
  const kept = new Set(best.values());
  return examples.filter((ex) => conversationOf(ex.id) === undefined || kept.has(ex));
}
