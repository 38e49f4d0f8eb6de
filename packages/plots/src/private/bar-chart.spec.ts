// Specs of the grouped bar chart: one bar per scored (metric, run), error bars only where an sd is given.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { type BarGroup, barChartData, barChartPng, barChartSpec, wrapLabel } from './bar-chart.js';
import { vegaLiteToSvg } from './render.js';

const groups: BarGroup[] = [
  { metric: 'MELD WF1', run: 'majority', mean: 0.3127 },
  { metric: 'MELD WF1', run: 'er-only', mean: 0.52, sd: 0.011, n: 3 },
  { metric: 'MELD WF1', run: 'm2se', mean: 0.5612, sd: 0.0083, n: 3 },
  { metric: 'Acc-2 (neg / pos)', run: 'majority', mean: 0.55 },
  { metric: 'Acc-2 (neg / pos)', run: 'msa-only', mean: 0.71, sd: 0.02, n: 3 },
  { metric: 'Acc-2 (neg / pos)', run: 'er-only', mean: undefined },
  { metric: 'Acc-2 (neg / pos)', run: 'm2se', mean: 0.74, sd: 0.015, n: 1 },
  { metric: 'ECPE F1', run: 'majority', mean: null },
  { metric: 'ECPE F1', run: 'm2se', mean: Number.NaN, sd: 0.01, n: 3 },
  { metric: 'ECPE F1', run: 'bag-of-words', mean: 0.12, sd: 0.005 },
];

interface Layer {
  mark: { type: string };
  data: { values: { metric: string; run: string; mean: number; low?: number; high?: number }[] };
}

function layers(g: readonly BarGroup[] = groups): Layer[] {
  return (barChartSpec(g, { title: 'Ablation' }) as unknown as { layer: Layer[] }).layer;
}

function pairs(values: readonly { metric: string; run: string }[]): string[] {
  return values.map((v) => `${v.metric} / ${v.run}`);
}

describe('bar chart', () => {
  it('renders a valid PNG of the requested size', async () => {
    const png = await barChartPng(groups, { title: 'Ablation over 3 seeds', width: 640, height: 360 });
    assert.equal(png.subarray(1, 4).toString('ascii'), 'PNG');
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual([meta.width, meta.height], [640, 360]);
    const scaled = await sharp(
      await barChartPng(groups, { title: 'x', width: 300, height: 200, scale: 2 }),
    ).metadata();
    assert.deepEqual([scaled.width, scaled.height], [600, 400]);
  });

  it('holds one bar per scored (metric, run) pair and leaves missing means out instead of drawing 0', () => {
    const [bars] = layers();
    assert.equal(bars.mark.type, 'bar');
    assert.deepEqual(pairs(bars.data.values), [
      'MELD WF1 / majority',
      'MELD WF1 / er-only',
      'MELD WF1 / m2se',
      'Acc-2 (neg / pos) / majority',
      'Acc-2 (neg / pos) / msa-only',
      'Acc-2 (neg / pos) / m2se',
      'ECPE F1 / bag-of-words',
    ]);
    assert.ok(bars.data.values.every((b) => b.mean > 0));
    assert.ok(Math.abs(bars.data.values[2].mean - 56.12) < 1e-9, 'means are drawn in percent');
  });

  it('draws error bars (a rule and two caps) only where an sd over more than one seed is given', () => {
    const [, rule, lowCap, highCap] = layers();
    assert.deepEqual([rule.mark.type, lowCap.mark.type, highCap.mark.type], ['rule', 'tick', 'tick']);
    assert.deepEqual(pairs(rule.data.values), [
      'MELD WF1 / er-only',
      'MELD WF1 / m2se',
      'Acc-2 (neg / pos) / msa-only',
      'ECPE F1 / bag-of-words',
    ]);
    const m2se = rule.data.values[1];
    assert.ok(Math.abs(m2se.low! - 55.29) < 1e-9 && Math.abs(m2se.high! - 56.95) < 1e-9);
    assert.equal(layers(groups.map(({ sd: _, ...g }) => g)).length, 1, 'no sd anywhere: bars only');
  });

  it('keeps the given order of metrics and runs and names them in the SVG', async () => {
    const spec = barChartSpec(groups, { title: 'Ablation', yTitle: 'score (%)' });
    const encoding = (spec as unknown as { layer: { encoding: Record<string, { sort?: string[] }> }[] })
      .layer[0].encoding;
    assert.deepEqual(encoding.x.sort, ['MELD WF1', 'Acc-2 (neg / pos)', 'ECPE F1']);
    assert.deepEqual(encoding.xOffset.sort, ['majority', 'er-only', 'm2se', 'msa-only', 'bag-of-words']);
    const svg = await vegaLiteToSvg(spec);
    for (const text of ['MELD WF1', 'Acc-2', 'ECPE F1', 'score (%)', 'bag-of-words', 'Ablation']) {
      assert.ok(svg.includes(text), `${text} is drawn`);
    }
  });

  it('wraps long metric names before "(" and between words so that group labels do not overprint', async () => {
    assert.deepEqual(wrapLabel('Acc-2 (neg / non-neg)'), ['Acc-2', '(neg /', 'non-neg)']);
    assert.deepEqual(wrapLabel('Acc-2 (neg / pos)'), ['Acc-2', '(neg / pos)']);
    assert.deepEqual(wrapLabel('MELD WF1'), ['MELD WF1']);
    const svg = await vegaLiteToSvg(barChartSpec(groups, { title: 'Ablation' }));
    assert.ok(svg.includes('<tspan>Acc-2</tspan>'), 'the first line is a line of its own');
    assert.match(svg, /<tspan [^>]*dy="[^"]+">\(neg \/ pos\)<\/tspan>/, 'the second line is drawn below it');
  });

  it('rejects means that are not fractions, repeated pairs, and a chart with nothing to draw', () => {
    assert.throws(
      () => barChartData([{ metric: 'MELD WF1', run: 'm2se', mean: 56.12 }]),
      /m2se \/ MELD WF1: mean 56\.12/,
    );
    assert.throws(
      () => barChartData([groups[0], { ...groups[0], mean: 0.4 }]),
      /majority \/ MELD WF1 is given twice/,
    );
    assert.throws(
      () => barChartData([{ metric: 'ECPE F1', run: 'x', mean: undefined }]),
      /nothing|no scored/,
    );
  });
});
