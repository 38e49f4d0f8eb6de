import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
// The results table of the paper's ablation (results/*.md): one row per experiment plus the
// majority-class baselines. Values come from the caller (the metrics package computes them) as
// fractions in [0, 1]; the table prints percentages with two decimals like the paper.
// Each run rewrites its own row (upsertResultRow) so that runs can finish in any order.

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
  /** ECF test emotion-cause pair F1. */
  ecpeF1?: number;
  note?: string;
}

const COLUMNS: { key: keyof ResultRow; title: string }[] = [
  { key: 'meldAcc', title: 'MELD Acc' },
  { key: 'meldWf1', title: 'MELD WF1' },
  { key: 'acc2NegNonNeg', title: 'Acc-2 (neg / non-neg)' },
  { key: 'acc2NegPos', title: 'Acc-2 (neg / pos)' },
  { key: 'ecpeF1', title: 'ECPE F1' },
];
const KINDS: ResultRow['kind'][] = ['baseline', 'experiment', 'reference'];

function rank(row: ResultRow): [number, number, string] {
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

/** Renders rows as a markdown table: baselines first, then experiments in ablation order. */
export function renderResultsTable(rows: readonly ResultRow[], title = 'Results'): string {
  const sorted = [...rows].sort((a, b) => {
    const [ka, ea, na] = rank(a);
    const [kb, eb, nb] = rank(b);
    return ka - kb || ea - eb || na.localeCompare(nb);
  });
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
    const cells = COLUMNS.map((c) => cell(r[c.key] as number | undefined, r.name, c.title));
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
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return text;
}
