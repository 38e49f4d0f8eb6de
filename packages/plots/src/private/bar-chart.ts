// Grouped bar chart with ± sd error bars (the paper's ablation over seeds): one group per metric, one bar per run.
import type { VegaLiteSpec } from './render.js';
import { vegaLiteToPng } from './render.js';

/** One run's score on one metric: mean (and sd) over `n` seeds, as fractions in [0, 1]. */
export interface BarGroup {
  /** Group on the x axis, e.g. "MELD WF1". */
  metric: string;
  /** Bar within the group, e.g. "m2se" or "majority". */
  run: string;
  /** Missing (undefined, null or NaN): the run has no score for this metric and no bar is drawn. */
  mean?: number | null;
  /** Sample sd over seeds; no error bar when undefined or when n is 1. */
  sd?: number;
  n?: number;
}

export interface BarChartOptions {
  title: string;
  /** Title of the value axis; "mean over seeds (%)" by default. */
  yTitle?: string;
  /** Size of the whole PNG in pixels (before `scale`), legend included. */
  width?: number;
  height?: number;
  scale?: number;
}

/** A bar as drawn: percentages, with the ± sd range clamped to [0, 100] when there is one. */
interface BarDatum {
  metric: string;
  run: string;
  mean: number;
  low?: number;
  high?: number;
}

function isFraction(v: number): boolean {
  return Number.isFinite(v) && v >= 0 && v <= 1;
}

function hasErrorBar(g: BarGroup): boolean {
  return g.sd !== undefined && Number.isFinite(g.sd) && (g.n === undefined || g.n > 1);
}

function checkGroup(g: BarGroup): void {
  const at = `${g.run} / ${g.metric}`;
  if (!isFraction(g.mean as number))
    throw new RangeError(`${at}: mean ${g.mean} is not a fraction in [0, 1]`);
  if (g.sd !== undefined && !(g.sd >= 0)) throw new RangeError(`${at}: sd ${g.sd} is not >= 0`);
}

function toDatum(g: BarGroup): BarDatum {
  checkGroup(g);
  const mean = (g.mean as number) * 100;
  if (!hasErrorBar(g)) return { metric: g.metric, run: g.run, mean };
  const sd = (g.sd as number) * 100;
  return { metric: g.metric, run: g.run, mean, low: Math.max(0, mean - sd), high: Math.min(100, mean + sd) };
}

/** Longest axis label line, in characters, before a metric name is wrapped. */
const LABEL_LINE = 12;

/** "Acc-2 (neg / non-neg)" -> ["Acc-2", "(neg /", "non-neg)"]: a break before "(", then greedy word wrap. */
export function wrapLabel(label: string, width = LABEL_LINE): string[] {
  const lines: string[] = [];
  for (const part of label.replace(/ \(/g, '\n(').split('\n')) {
    let line = '';
    for (const word of part.split(' ')) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines;
}

/** A vega expression giving each metric's wrapped lines, so that group labels do not overprint. */
function labelExpr(metrics: readonly string[]): string {
  const lines = Object.fromEntries(metrics.map((m) => [m, wrapLabel(m)]));
  return `${JSON.stringify(lines)}[datum.label] || datum.label`;
}

/** Names in order of first appearance. */
function firstSeen(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The bars to draw: scored (metric, run) pairs only, in percent; a repeated pair is an error. */
export function barChartData(groups: readonly BarGroup[]): BarDatum[] {
  const seen = new Set<string>();
  const bars = groups.filter((g) => g.mean !== undefined && g.mean !== null && !Number.isNaN(g.mean));
  for (const g of bars) {
    const key = JSON.stringify([g.metric, g.run]);
    if (seen.has(key)) throw new Error(`barChartPng: ${g.run} / ${g.metric} is given twice`);
    seen.add(key);
  }
  if (bars.length === 0) throw new Error('barChartPng: no scored (metric, run) pair to draw');
  return bars.map(toDatum);
}

/** The error bar layers: a vertical rule from mean - sd to mean + sd, capped by two ticks. */
function errorLayers(bars: readonly BarDatum[], x: object, xOffset: object): object[] {
  const values = bars.filter((b) => b.low !== undefined).map((b) => ({ ...b }));
  if (values.length === 0) return [];
  const y = { field: 'low', type: 'quantitative' as const };
  const cap = (field: string) => ({
    data: { values },
    mark: { type: 'tick', color: '#222', thickness: 1.2, size: 7 },
    encoding: { x, xOffset, y: { field, type: 'quantitative' } },
  });
  return [
    {
      data: { values },
      mark: { type: 'rule', color: '#222', strokeWidth: 1.2 },
      encoding: { x, xOffset, y, y2: { field: 'high' } },
    },
    cap('low'),
    cap('high'),
  ];
}

/** The vega-lite spec of the chart (exported so that tests can inspect it). */
export function barChartSpec(groups: readonly BarGroup[], options: BarChartOptions): VegaLiteSpec {
  const bars = barChartData(groups);
  const metrics = firstSeen(groups.map((g) => g.metric)).filter((m) => bars.some((b) => b.metric === m));
  const runs = firstSeen(groups.map((g) => g.run)).filter((r) => bars.some((b) => b.run === r));
  const x = {
    field: 'metric',
    type: 'nominal' as const,
    title: null,
    sort: metrics,
    scale: { paddingInner: 0.25 },
    axis: { labelAngle: 0, labelLimit: 0, labelExpr: labelExpr(metrics), labelPadding: 6 },
  };
  const xOffset = { field: 'run', type: 'nominal' as const, sort: runs, scale: { paddingInner: 0.08 } };
  const y = {
    field: 'mean',
    type: 'quantitative' as const,
    title: options.yTitle ?? 'mean over seeds (%)',
    scale: { zero: true, nice: true },
  };
  const color = { field: 'run', type: 'nominal' as const, title: 'run', scale: { domain: runs } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: options.width ?? 760,
    height: options.height ?? 400,
    // the given size is the size of the whole image, axes and legend included
    autosize: { type: 'fit', contains: 'padding' },
    padding: 8,
    background: 'white',
    config: { axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelLimit: 220 } },
    layer: [
      {
        data: { values: bars.map((b) => ({ ...b })) },
        mark: { type: 'bar' },
        encoding: { x, xOffset, y, color },
      },
      ...errorLayers(bars, x, xOffset),
    ],
  } as VegaLiteSpec;
}

/** PNG bytes of the grouped bar chart. */
export async function barChartPng(groups: readonly BarGroup[], options: BarChartOptions): Promise<Buffer> {
  return vegaLiteToPng(barChartSpec(groups, options), { scale: options.scale });
}
