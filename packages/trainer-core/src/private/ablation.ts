// The paper's ablation answered over seeds: every run recorded under <results>/runs/ (one JSON per
// experiment and seed, full test splits only) becomes results/ablation.md — mean ± sd per metric
// over seeds, the baselines of the same runs with their 95% bootstrap intervals, the commit — and a
// bar chart with error bars (ablation.png). Runs may finish in any order; each rewrite is atomic.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXPERIMENTS, meanSd, renderSeededTable, type SeededRow, writeFileAtomic } from '@emoverse/m2se';
import { barChartPng } from '@emoverse/plots';
import type { RunRecord } from './experiment.js';
import type { MetricKey, RunScores } from './scores.js';

/** The paper's reported number for comparison (EmoVerse, a pretrained 4B model; MELD WF1). */
const PAPER_REFERENCE: SeededRow = {
  name: 'paper: EmoVerse-4B (M2SE)',
  kind: 'reference',
  seeds: 1,
  metrics: { meldWf1: { mean: 0.6674 } },
  note: 'reported in the paper; pretrained 4B model',
};

/** Table columns (the seeded table's keys) and where each comes from in a run's scores. */
const COLUMNS: [Exclude<MetricKey, 'ecpeF1Ecf'>, string][] = [
  ['meldAcc', 'MELD Acc'],
  ['meldWf1', 'MELD WF1'],
  ['acc2NegNonNeg', 'Acc-2 (neg / non-neg)'],
  ['acc2NegPos', 'Acc-2 (neg / pos)'],
  ['ecpeF1', 'ECPE F1'],
];

const BASELINE_TITLES: Record<string, string> = {
  majority: 'majority class',
  'bag-of-words': 'bag-of-words LR',
  'ecpe-self': 'ECPE: self',
  'ecpe-self-prev': 'ECPE: self + previous',
};

function readRuns(dir: string, smoke: boolean): RunRecord[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord)
    .filter((r) => r.split === 'test' && !r.limited && r.smoke === smoke);
}

/** The checked-out commit (short), with "+dirty" when tracked files have uncommitted changes. */
export function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    });
    return dirty.trim() ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Seeds of one experiment → one row: mean ± sd of every metric present. */
function experimentRow(name: string, runs: readonly RunRecord[]): SeededRow {
  const metrics: SeededRow['metrics'] = {};
  for (const [key] of COLUMNS) {
    const values = runs.map((r) => r.scores[key]?.value).filter((v): v is number => v !== undefined);
    const one = runs.length === 1 ? runs[0].scores[key] : undefined;
    // one seed: its 95% bootstrap interval over the test records; several: mean ± sd over seeds
    if (one) metrics[key] = { mean: one.value, low: one.low, high: one.high };
    else if (values.length) metrics[key] = meanSd(values);
  }
  const seconds = runs.map((r) => r.trainSeconds);
  return {
    name,
    kind: 'experiment',
    seeds: runs.length,
    metrics,
    note: `seeds ${runs.map((r) => r.seed).join(', ')}; training ${Math.min(...seconds).toFixed(0)}-${Math.max(...seconds).toFixed(0)} s`,
  };
}

/** A baseline is deterministic: its value with the 95% bootstrap interval of one run. */
function baselineRow(name: string, scores: RunScores, note: string): SeededRow {
  const metrics: SeededRow['metrics'] = {};
  for (const [key] of COLUMNS) {
    const e = scores[key];
    if (e) metrics[key] = { mean: e.value, low: e.low, high: e.high };
  }
  return { name: BASELINE_TITLES[name] ?? name, kind: 'baseline', seeds: 1, metrics, note };
}

/** Rewrites <resultsDir>/ablation.md (or ablation-smoke.md) and its chart; returns the table's path. */
export async function writeAblation(resultsDir: string, o: { smoke?: boolean } = {}): Promise<string> {
  const runs = readRuns(join(resultsDir, 'runs'), o.smoke === true);
  const rows: SeededRow[] = [];
  // baselines: the latest value of each (name, task metric) over all runs (they are the same records)
  const baselines = new Map<string, { scores: RunScores; note: string }>();
  for (const r of runs) {
    for (const b of r.baselines) {
      const prev = baselines.get(b.name);
      baselines.set(b.name, { scores: { ...prev?.scores, ...b.scores }, note: b.note });
    }
  }
  for (const [name, b] of baselines) rows.push(baselineRow(name, b.scores, b.note));
  for (const name of EXPERIMENTS) {
    const mine = runs.filter((r) => r.name === name);
    if (mine.length) rows.push(experimentRow(name, mine));
  }
  rows.push(PAPER_REFERENCE);
  const table = renderSeededTable(rows, {
    title: `M2SE ablation on emoverse-nano (CPU, from scratch)${o.smoke ? ' — smoke' : ''}`,
    commit: gitCommit(),
    notes: [verdict(runs)],
  });
  const name = o.smoke ? 'ablation-smoke' : 'ablation';
  const path = join(resultsDir, `${name}.md`);
  writeFileAtomic(path, table);
  const points = rows
    .filter((r) => r.kind !== 'reference')
    .flatMap((r) =>
      COLUMNS.filter(([k]) => k !== 'meldAcc' && r.metrics[k] !== undefined).map(([k, title]) => ({
        metric: title,
        run: r.name,
        mean: r.metrics[k]!.mean,
        sd: r.metrics[k]!.sd,
        n: r.seeds,
      })),
    );
  if (points.length)
    writeFileAtomic(
      join(resultsDir, `${name}.png`),
      await barChartPng(points, {
        title: 'M2SE ablation on emoverse-nano (mean ± sd over seeds)',
        yTitle: '%',
      }),
    );
  return path;
}

/** The paper's central claim, as measured: does M2SE beat single-task training at this scale? */
export function verdict(runs: readonly RunRecord[]): string {
  const mean = (name: string, key: MetricKey) => {
    const v = runs.map((r) => (r.name === name ? r.scores[key]?.value : undefined));
    const ok = v.filter((x): x is number => x !== undefined);
    return ok.length ? { m: meanSd(ok).mean, n: ok.length } : undefined;
  };
  const m2seEr = mean('m2se', 'meldWf1');
  const erOnly = mean('er-only', 'meldWf1');
  const m2seMsa = mean('m2se', 'acc2NegNonNeg');
  const msaOnly = mean('msa-only', 'acc2NegNonNeg');
  if (!m2seEr || !erOnly || !m2seMsa || !msaOnly)
    return 'Not yet answered: the table lacks m2se, er-only or msa-only runs.';
  const er = (m2seEr.m - erOnly.m) * 100;
  const msa = (m2seMsa.m - msaOnly.m) * 100;
  const beats = er > 0 && msa > 0;
  return `${beats ? 'M2SE beats' : 'M2SE does not beat'} single-task training at this scale: MELD WF1 ${er >= 0 ? '+' : ''}${er.toFixed(2)} points against er-only, Acc-2 ${msa >= 0 ? '+' : ''}${msa.toFixed(2)} against msa-only (means over seeds: m2se ${m2seEr.n}, er-only ${erOnly.n}, msa-only ${msaOnly.n}).`;
}
