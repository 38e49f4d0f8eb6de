// The batch build (npm run emt:build): load MELD, ECF 1.0, ECF 2.0 and optional MOSEI-format files from the
// shared data folder, make the five tasks' records, run quality control, write shards + manifest atomically.
import { join, relative, sep } from 'node:path';
import { loadEcf1 } from './ecf1.js';
import { loadEcf2 } from './ecf2.js';
import { type EriGenerator, offlineEri } from './eri.js';
import { type FerCaptioner, facsCaptioner, loadPeakAus, type PeakAus } from './fer.js';
import { loadMeld } from './meld.js';
import { loadMosei } from './mosei.js';
import { makeRecords, type QualityReport } from './records.js';
import { type EmtManifest, writeEmt } from './shards.js';
import type { LoadIssue, SourceConversation, SourceUtterance, Task } from './types.js';

export interface BuildOptions {
  /** The shared data folder (holds data/meld, data/ecf). */
  sharedDir: string;
  outDir: string;
  seed?: number;
  tasks?: readonly Task[];
  eri?: EriGenerator;
  fer?: { captioner: FerCaptioner; peakAus: PeakAus };
  /** Peak-frame AUs as JSONL (see loadPeakAus); builds FER with the facs captioner when `fer` is not given. */
  peakAusFile?: string;
  /** User-supplied MOSEI-format files (CSV or JSONL: segment id, text, score in [-3, 3]). */
  moseiFiles?: readonly string[];
  /** Add ECF 2.0's test set (SemEval-2024 Subtask 2) as extra ECPE test data. Default true. */
  ecf2?: boolean;
  ecpeMode?: 'target' | 'conversation';
  shardSize?: number;
  onWarning?: (message: string) => void;
}

export interface BuildResult {
  manifest: EmtManifest;
  quality: QualityReport;
  issues: LoadIssue[];
}

/** Loads every source the build uses; malformed rows are returned as issues, never thrown. */
export function loadSources(
  sharedDir: string,
  opts: { moseiFiles?: readonly string[]; ecf2?: boolean } = {},
) {
  const data = join(sharedDir, 'data');
  const issues: LoadIssue[] = [];
  const meld = loadMeld(join(data, 'meld'));
  issues.push(...meld.issues);
  const ecf1 = loadEcf1(join(data, 'ecf', 'mecpe'), meld.utterances);
  issues.push(...ecf1.issues);
  const conversations: SourceConversation[] = [...ecf1.conversations];
  let ecf2Count = 0;
  if (opts.ecf2 ?? true) {
    const ecf2 = loadEcf2(join(data, 'ecf', 'semeval2024_ecac', 'Subtask_2_test.json'), 'test');
    issues.push(...ecf2.issues);
    conversations.push(...ecf2.conversations);
    ecf2Count = ecf2.conversations.length;
  }
  const utterances: SourceUtterance[] = [...meld.utterances];
  let moseiCount = 0;
  for (const f of opts.moseiFiles ?? []) {
    const m = loadMosei(f);
    issues.push(...m.issues);
    utterances.push(...m.utterances);
    moseiCount += m.utterances.length;
  }
  const stats = {
    meld: { utterances: meld.utterances.length },
    ecf1: { conversations: ecf1.conversations.length, meldLink: ecf1.link },
    ecf2: { conversations: ecf2Count },
    mosei: { utterances: moseiCount },
  };
  return { utterances, conversations, issues, stats };
}

export async function buildEmt(opts: BuildOptions): Promise<BuildResult> {
  const seed = opts.seed ?? 0;
  const src = loadSources(opts.sharedDir, opts);
  let fer = opts.fer;
  if (!fer && opts.peakAusFile) {
    const p = loadPeakAus(opts.peakAusFile);
    src.issues.push(...p.issues);
    fer = {
      captioner: facsCaptioner(join(opts.sharedDir, 'data', 'facs', 'au_emotion.json')),
      peakAus: p.peakAus,
    };
  }
  const warn = opts.onWarning ?? ((m: string) => console.warn(m));
  for (const i of src.issues.slice(0, 20)) warn(`${i.file}:${i.line}: ${i.reason}`);
  if (src.issues.length > 20) warn(`... ${src.issues.length - 20} more malformed rows (see manifest.json)`);
  const eri = opts.eri ?? offlineEri(seed);
  const { records, quality } = await makeRecords(src, {
    tasks: opts.tasks,
    eri,
    fer,
    ecpeMode: opts.ecpeMode,
  });
  // Paths in the manifest are relative to the shared folder so that builds on two machines compare equal.
  const rel = (f: string) => {
    const r = relative(opts.sharedDir, f);
    return r.startsWith('..') ? f : r.split(sep).join('/');
  };
  const issues = src.issues.map((i) => ({ ...i, file: rel(i.file) }));
  const manifest = await writeEmt(opts.outDir, records, {
    seed,
    shardSize: opts.shardSize,
    extra: {
      tasks: opts.tasks ?? ['msa', 'er', 'fer', 'eri', 'ecpe'],
      ecpeMode: opts.ecpeMode ?? 'target',
      eri: { backend: eri.name, ...('stats' in eri ? { stats: eri.stats } : {}) },
      sources: src.stats,
      quality: {
        dropped: quality.dropped,
        droppedByTask: quality.droppedByTask,
        firstDrops: quality.drops.slice(0, 50),
      },
      malformedRows: { count: issues.length, first: issues.slice(0, 100) },
    },
  });
  return { manifest, quality, issues };
}
