// The results tables of the paper's ablation (results/*.md): one run per row, or means over seeds per row.
// Values come from the caller (the metrics package computes them) as fractions in [0, 1]; the tables
// print percentages with two decimals like the paper. Each run rewrites its own row (upsertResultRows)
// so that runs can finish in any order, and every file is replaced atomically (writeFileAtomic).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const EXPERIMENTS = ['msa-only', 'er-only', 'multitask-1stage', 'm2se'] as const;
export type ExperimentName = (typeof EXPERIMENTS)[number];

export interface ResultRow {
  /** Row name: an experiment, a baseline such as "majority class", or a reference. */
  name: string;
  kind: 'baseline' | 'experiment' | 'reference';
  /** MELD test emotion accuracy and weighted F1 over the 7 classes. */
  meldAcc?: number;
  meldWf1?: number;
  /** MELD sentiment Acc-2: negative vs non-negative, and negative vs positive (neutral left out). */
  acc2NegNonNeg?: number;
  acc2NegPos?: number;
  /** ECF test emotion-cause pair F1, as the paper's scorer counts it. */
  ecpeF1?: number;
  note?: string;
}

/** The metric columns of both tables, in order. */
export const METRIC_KEYS = ['meldAcc', 'meldWf1', 'acc2NegNonNeg', 'acc2NegPos', 'ecpeF1'] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

const COLUMNS: { key: MetricKey; title: string }[] = [
  { key: 'meldAcc', title: 'MELD Acc' },
  { key: 'meldWf1', title: 'MELD WF1' },
  { key: 'acc2NegNonNeg', title: 'Acc-2 (neg / non-neg)' },
  { key: 'acc2NegPos', title: 'Acc-2 (neg / pos)' },
  { key: 'ecpeF1', title: 'ECPE F1' },
];
const KINDS: ResultRow['kind'][] = ['baseline', 'experiment', 'reference'];

function rank(row: Pick<ResultRow, 'name' | 'kind'>): [number, number, string] {
  const e = (EXPERIMENTS as readonly string[]).indexOf(row.name);
  return [KINDS.indexOf(row.kind), e < 0 ? EXPERIMENTS.length : e, row.name];
}

function cell(v: number | undefined, name: string, col: string): string {
  if (v === undefined) return '-';
  if (!Number.isFinite(v) || v < 0 || v > 1) {
    throw new RangeError(`${name} / ${col}: ${v} is not a fraction in [0, 1]`);
  }
  return (v * 100).toFixed(2);
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Baselines first, then experiments in ablation order, then references; by name within each. */
function inTableOrder<R extends Pick<ResultRow, 'name' | 'kind'>>(rows: readonly R[]): R[] {
  return [...rows].sort((a, b) => {
    const [ka, ea, na] = rank(a);
    const [kb, eb, nb] = rank(b);
    return ka - kb || ea - eb || na.localeCompare(nb);
  });
}

/** Renders rows as a markdown table: baselines first, then experiments in ablation order. */
export function renderResultsTable(rows: readonly ResultRow[], title = 'Results'): string {
  const sorted = inTableOrder(rows);
  const head = ['Run', 'Kind', ...COLUMNS.map((c) => c.title), 'Note'];
  const lines = [
    `# ${title}`,
    '',
    'Metrics in %, MELD and ECF test splits. "-": not measured for this run.',
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < 2 || i === head.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const r of sorted) {
    const cells = COLUMNS.map((c) => cell(r[c.key], r.name, c.title));
    lines.push(`| ${escapeCell(r.name)} | ${r.kind} | ${cells.join(' | ')} | ${escapeCell(r.note ?? '')} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads back a table written by renderResultsTable (empty list if the text holds none). */
export function parseResultsTable(markdown: string): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| Run |') || line.startsWith('| ---')) continue;
    const cells = line
      .slice(2, -2)
      .split(/(?<!\\) \| /)
      .map((c) => c.replace(/\\\|/g, '|'));
    if (cells.length !== COLUMNS.length + 3) continue;
    const [name, kind, ...rest] = cells;
    if (!KINDS.includes(kind as ResultRow['kind'])) continue;
    const row: ResultRow = { name, kind: kind as ResultRow['kind'] };
    COLUMNS.forEach((c, i) => {
      // two decimals of a percentage: round so that 48.12 reads back as 0.4812 exactly
      if (rest[i] !== '-')
        (row as unknown as Record<string, number>)[c.key] = Math.round(Number(rest[i]) * 100) / 10000;
    });
    const note = rest[COLUMNS.length].trim();
    if (note) row.note = note;
    rows.push(row);
  }
  return rows;
}

/** Replaces (or adds) the rows with the same name, keeping every other row of the existing table. */
export function upsertResultRows(
  existingMarkdown: string | undefined,
  rows: readonly ResultRow[],
  title?: string,
): string {
  const names = new Set(rows.map((r) => r.name));
  const kept = parseResultsTable(existingMarkdown ?? '').filter((r) => !names.has(r.name));
  return renderResultsTable([...kept, ...rows], title);
}

/** Upserts rows into the table file at `path` (creating it and its folder), returns the new text. */
export function writeResultRows(path: string, rows: readonly ResultRow[], title?: string): string {
  const text = upsertResultRows(existsSync(path) ? readFileSync(path, 'utf8') : undefined, rows, title);
  writeFileAtomic(path, text);
  return text;
}

/**
 * Writes `text` to `<path>.tmp-<pid>` and renames that over `path` (creating the folder), so that a
 * reader or a crash never sees a half-written file: `path` holds the old text or the new, whole.
 */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** Mean and sample sd (n - 1) of the values; sd is undefined for fewer than two values. */
export function meanSd(values: readonly number[]): { mean: number; sd?: number } {
  if (values.length === 0) throw new RangeError('meanSd: no values');
  if (!values.every(Number.isFinite)) throw new RangeError(`meanSd: not all values are finite: ${values}`);
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  if (values.length < 2) return { mean };
  const squares = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(squares / (values.length - 1)) };
}

/** One metric of a seeded row: mean (and sample sd) over seeds, or a 95% interval [low, high]. */
export interface MetricSummary {
  mean: number;
  sd?: number;
  low?: number;
  high?: number;
}

/** A row of the seeded ablation table: a run's metrics summarised over `seeds` training seeds. */
export interface SeededRow {
  name: string;
  kind: ResultRow['kind'];
  /** Seeds the summary is over: 1 for a single run or a deterministic baseline, 0 (printed "-") for a reference. */
  seeds: number;
  metrics: Partial<Record<MetricKey, MetricSummary>>;
  note?: string;
}

export interface SeededTableOptions {
  title: string;
  /** The commit the numbers were produced at (named in the header). */
  commit: string;
  /** Lines printed under the table as a list. */
  notes?: readonly string[];
}

function checkFraction(v: number | undefined, what: string, at: string): void {
  if (v !== undefined && (!Number.isFinite(v) || v < 0 || v > 1)) {
    throw new RangeError(`${at}: ${what} ${v} is not a fraction in [0, 1]`);
  }
}

function checkSummary(s: MetricSummary, at: string): void {
  checkFraction(s.mean, 'mean', at);
  checkFraction(s.sd, 'sd', at);
  checkFraction(s.low, 'low', at);
  checkFraction(s.high, 'high', at);
  if ((s.low === undefined) !== (s.high === undefined)) throw new RangeError(`${at}: give both low and high`);
  if (s.low !== undefined && !(s.low <= s.mean && s.mean <= s.high!)) {
    throw new RangeError(`${at}: mean ${s.mean} is outside [${s.low}, ${s.high}]`);
  }
}

const pct = (v: number) => (v * 100).toFixed(2);

/** "56.12 ± 0.83" (sd over seeds), "56.12 [54.90, 57.40]" (95% interval), "56.12", or "-". */
function seededCell(s: MetricSummary | undefined, name: string, col: string): string {
  if (s === undefined) return '-';
  checkSummary(s, `${name} / ${col}`);
  if (s.sd !== undefined) return `${pct(s.mean)} ± ${pct(s.sd)}`;
  if (s.low !== undefined) return `${pct(s.mean)} [${pct(s.low)}, ${pct(s.high!)}]`;
  return pct(s.mean);
}

/** "3 seeds" when every experiment has the same count, else "1-3 seeds". */
function seedCount(rows: readonly SeededRow[]): string {
  const experiments = rows.filter((r) => r.kind === 'experiment' && r.seeds > 0);
  const counts = (experiments.length > 0 ? experiments : rows.filter((r) => r.seeds > 0)).map((r) => r.seeds);
  if (counts.length === 0) return 'no seeds';
  const [lo, hi] = [Math.min(...counts), Math.max(...counts)];
  const range = lo === hi ? `${lo}` : `${lo}-${hi}`;
  return `${range} seed${hi === 1 ? '' : 's'}`;
}

function checkSeeds(row: SeededRow): void {
  if (!Number.isInteger(row.seeds) || row.seeds < 0) {
    throw new RangeError(`${row.name}: seeds ${row.seeds} is not a whole number >= 0`);
  }
}

function seededHeader(rows: readonly SeededRow[], options: SeededTableOptions): string[] {
  return [
    `# ${options.title}`,
    '',
    `Commit \`${options.commit}\`, experiments over ${seedCount(rows)}. All numbers are on the full test sets ` +
      '(MELD and ECF test splits), in %: mean ± sample sd over seeds, or mean [95% interval] for a single run; ' +
      '"-": not measured for this run.',
    '',
  ];
}

/** Renders seeded rows as a markdown table: the commit and seed count in the header, notes below. */
export function renderSeededTable(rows: readonly SeededRow[], options: SeededTableOptions): string {
  if (rows.length === 0) throw new RangeError('renderSeededTable: no rows');
  rows.forEach(checkSeeds);
  const head = ['Run', 'Kind', 'Seeds', ...COLUMNS.map((c) => c.title), 'Note'];
  const lines = [
    ...seededHeader(rows, options),
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < 2 || i === head.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const r of inTableOrder(rows)) {
    const cells = COLUMNS.map((c) => seededCell(r.metrics[c.key], r.name, c.title));
    lines.push(
      `| ${escapeCell(r.name)} | ${r.kind} | ${r.seeds || '-'} | ${cells.join(' | ')} | ${escapeCell(r.note ?? '')} |`,
    );
  }
  const notes = options.notes ?? [];
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${n.replace(/\n/g, ' ')}`));
  return `${lines.join('\n')}\n`;
}
