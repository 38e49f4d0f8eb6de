// Per-task training loss curves (issue 7: each run writes a PNG of them; issue 10: the demo report).
import type { VegaLiteSpec } from './render.js';
import { vegaLiteToPng } from './render.js';

/** One logged loss: the task's mean loss at an optimizer step. */
export interface LossPoint {
  step: number;
  task: string;
  loss: number;
}

/** Points as a flat list, or grouped by task (e.g. { MSA: [{ step, loss }], ER: [...] }). */
export type LossSeries =
  | readonly LossPoint[]
  | Readonly<Record<string, readonly { step: number; loss: number }[]>>;

export interface LossCurvesOptions {
  title?: string;
  /** Size of the whole PNG in pixels (before `scale`). */
  width?: number;
  height?: number;
  /** Optimizer steps where a new stage starts, drawn as labelled vertical rules. */
  stageBoundaries?: readonly { step: number; label: string }[];
  /** Window of a trailing moving average drawn over the raw (faint) curve; 1 = raw only. */
  smooth?: number;
  logScale?: boolean;
  scale?: number;
}

export function flattenLossSeries(series: LossSeries): LossPoint[] {
  if (Array.isArray(series)) return [...(series as readonly LossPoint[])];
  return Object.entries(series as Record<string, readonly { step: number; loss: number }[]>).flatMap(
    ([task, pts]) => pts.map((p) => ({ step: p.step, task, loss: p.loss })),
  );
}

/** The vega-lite spec of the chart (exported so that it can be inspected or reused). */
export function lossCurvesSpec(series: LossSeries, options: LossCurvesOptions = {}): VegaLiteSpec {
  const points = flattenLossSeries(series).filter(
    (p) => Number.isFinite(p.loss) && (!options.logScale || p.loss > 0),
  );
  if (points.length === 0) throw new Error('lossCurvesPng: no finite loss values to plot');
  points.sort((a, b) => a.task.localeCompare(b.task) || a.step - b.step);
  const smooth = Math.max(1, Math.floor(options.smooth ?? 1));
  const x = { field: 'step', type: 'quantitative' as const, title: 'optimizer step' };
  const y = {
    field: 'loss',
    type: 'quantitative' as const,
    title: 'loss',
    scale: options.logScale ? { type: 'log' as const } : { zero: false },
  };
  const color = { field: 'task', type: 'nominal' as const, title: 'task' };
  const layers: object[] = [
    { mark: { type: 'line', strokeWidth: 1.2, opacity: smooth > 1 ? 0.3 : 1 }, encoding: { x, y, color } },
  ];
  if (smooth > 1) {
    layers.push({
      transform: [
        {
          window: [{ op: 'mean', field: 'loss', as: 'smoothed' }],
          frame: [-(smooth - 1), 0],
          groupby: ['task'],
          sort: [{ field: 'step' }],
        },
      ],
      mark: { type: 'line', strokeWidth: 2.2 },
      encoding: { x, y: { ...y, field: 'smoothed' }, color },
    });
  }
  const boundaries = options.stageBoundaries ?? [];
  if (boundaries.length > 0) {
    layers.push({
      data: { values: boundaries.map((b) => ({ ...b })) },
      mark: { type: 'rule', strokeDash: [4, 4], color: '#666' },
      encoding: { x: { field: 'step', type: 'quantitative' } },
    });
    layers.push({
      // one text row per boundary (pixels from the top) so that close stage starts do not overprint;
      // long names are cut with an ellipsis
      data: { values: boundaries.map((b, i) => ({ ...b, row: 4 + 14 * i })) },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, color: '#444', fontSize: 11, limit: 200 },
      encoding: {
        x: { field: 'step', type: 'quantitative' },
        y: { field: 'row', type: 'quantitative', scale: null },
        text: { field: 'label' },
      },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? 'Training loss per task',
    width: options.width ?? 720,
    height: options.height ?? 360,
    // the given size is the size of the whole image, axes and legend included
    autosize: { type: 'fit', contains: 'padding' },
    padding: 8,
    background: 'white',
    config: { legend: { symbolOpacity: 1, symbolStrokeWidth: 2.5 } },
    data: { values: points.map((p) => ({ ...p })) },
    layer: layers,
  } as VegaLiteSpec;
}

/** PNG bytes of the per-task loss curves. */
export async function lossCurvesPng(series: LossSeries, options: LossCurvesOptions = {}): Promise<Buffer> {
  return vegaLiteToPng(lossCurvesSpec(series, options), { scale: options.scale });
}

/** One value of a named series at a step (loss weights, lr, tokens/s...). */
export interface SeriesPoint {
  step: number;
  series: string;
  value: number;
}

/** A plain multi-series line chart, e.g. the per-task loss weights the trainer logs each step. */
export async function seriesChartPng(
  points: readonly SeriesPoint[],
  options: { title: string; yTitle: string; width?: number; height?: number; scale?: number } & Pick<
    LossCurvesOptions,
    'stageBoundaries'
  >,
): Promise<Buffer> {
  const spec = lossCurvesSpec(
    points.map((p) => ({ step: p.step, task: p.series, loss: p.value })),
    {
      title: options.title,
      width: options.width,
      height: options.height,
      stageBoundaries: options.stageBoundaries,
    },
  ) as unknown as {
    layer: { encoding?: { y?: { title?: string; field?: string }; color?: { title?: string } } }[];
  };
  for (const layer of spec.layer) {
    if (layer.encoding?.y?.field === 'loss') layer.encoding.y.title = options.yTitle;
    if (layer.encoding?.color) layer.encoding.color.title = 'series';
  }
  return vegaLiteToPng(spec as unknown as VegaLiteSpec, { scale: options.scale });
}
