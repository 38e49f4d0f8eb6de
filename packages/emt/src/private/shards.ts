// EMT on disk: <out>/<task>/<split>-NNNNN.jsonl shards plus manifest.json. The whole folder is written
// under a temporary name next to <out> and renamed into place at the end, so a crash or error never
// leaves a half-written dataset where a good one was.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { shuffled } from './hash.js';
import { type EmtRecord, SPLITS, type Split, TASKS, type Task } from './types.js';

export interface ShardInfo {
  task: Task;
  split: Split;
  /** Relative to the dataset folder. */
  path: string;
  records: number;
  sha256: string;
}

export interface EmtManifest {
  format: 'emoverse-emt/1';
  seed: number;
  shardSize: number;
  counts: Partial<Record<Task, Partial<Record<Split, number>>>>;
  total: number;
  shards: ShardInfo[];
  /** Anything else the builder wants to record (quality, sources, ERI backend); must be deterministic. */
  [key: string]: unknown;
}

/** Groups records by task and split, shuffles each group with the seed, and cuts shards. */
export function planShards(records: readonly EmtRecord[], seed: number, shardSize: number) {
  const groups = new Map<string, EmtRecord[]>();
  for (const r of records) {
    const k = `${r.task}/${r.split}`;
    const g = groups.get(k) ?? [];
    g.push(r);
    groups.set(k, g);
  }
  const out: { task: Task; split: Split; path: string; records: EmtRecord[] }[] = [];
  TASKS.forEach((task, ti) => {
    SPLITS.forEach((split, si) => {
      const g = groups.get(`${task}/${split}`);
      if (!g) return;
      // Sort first so the input order does not matter, then a per-group seeded shuffle.
      const sorted = [...g].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const mixed = shuffled(sorted, (seed * 31 + ti * 7 + si) >>> 0);
      for (let i = 0, n = 0; i < mixed.length; i += shardSize, n++) {
        out.push({
          task,
          split,
          path: `${task}/${split}-${String(n).padStart(5, '0')}.jsonl`,
          records: mixed.slice(i, i + shardSize),
        });
      }
    });
  });
  return out;
}

/**
 * Writes records and manifest to `outDir` atomically (temp folder + rename). `extra` goes into the manifest.
 * If anything fails, `outDir` keeps what it had.
 */
export async function writeEmt(
  outDir: string,
  records: readonly EmtRecord[],
  opts: { seed: number; shardSize?: number; extra?: Record<string, unknown> },
): Promise<EmtManifest> {
  const shardSize = opts.shardSize ?? 5000;
  const parent = dirname(outDir);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, `.${basename(outDir)}.tmp-`));
  try {
    const manifest: EmtManifest = {
      format: 'emoverse-emt/1',
      seed: opts.seed,
      shardSize,
      counts: {},
      total: records.length,
      shards: [],
      ...opts.extra,
    };
    for (const shard of planShards(records, opts.seed, shardSize)) {
      const body = shard.records.map((r) => `${JSON.stringify(r)}\n`).join('');
      await mkdir(join(tmp, shard.task), { recursive: true });
      await writeFile(join(tmp, shard.path), body);
      manifest.counts[shard.task] ??= {};
      const counts = manifest.counts[shard.task]!;
      counts[shard.split] = (counts[shard.split] ?? 0) + shard.records.length;
      manifest.shards.push({
        task: shard.task,
        split: shard.split,
        path: shard.path,
        records: shard.records.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      });
    }
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await replaceDir(tmp, outDir);
    return manifest;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function replaceDir(ready: string, target: string): Promise<void> {
  if (!existsSync(target)) return rename(ready, target);
  const old = `${ready}.old`;
  await rename(target, old);
  try {
    await rename(ready, target);
  } catch (e) {
    await rename(old, target); // put the good one back
    throw e;
  }
  await rm(old, { recursive: true, force: true });
}

export async function readManifest(dir: string): Promise<EmtManifest> {
  const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  if (m?.format !== 'emoverse-emt/1') throw new Error(`${dir}/manifest.json is not an EMT manifest`);
  return m as EmtManifest;
}

/** Streams the records of a dataset folder, optionally one task and/or split, in manifest order. */
export async function* readRecords(
  dir: string,
  filter: { task?: Task; split?: Split } = {},
): AsyncGenerator<EmtRecord> {
  const manifest = await readManifest(dir);
  for (const s of manifest.shards) {
    if ((filter.task && s.task !== filter.task) || (filter.split && s.split !== filter.split)) continue;
    const lines = createInterface({
      input: createReadStream(join(dir, s.path)),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) if (line.trim()) yield JSON.parse(line) as EmtRecord;
  }
}
