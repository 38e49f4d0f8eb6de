// Charts and overlays as PNG: vega-lite to SVG to PNG with sharp

export {
  type BarChartOptions,
  type BarGroup,
  barChartData,
  barChartPng,
  barChartSpec,
} from './private/bar-chart.js';
export {
  flattenLossSeries,
  type LossCurvesOptions,
  type LossPoint,
  type LossSeries,
  lossCurvesPng,
  lossCurvesSpec,
  type SeriesPoint,
  seriesChartPng,
} from './private/loss-curves.js';
export {
  type AuReading,
  BOX_COLOR,
  type Box,
  type PeakFrameOptions,
  type Point,
  peakFramePng,
  type RawFrame,
} from './private/peak-frame.js';
export {
  FONT_FAMILY,
  svgToPng,
  type VegaLiteSpec,
  vegaLiteToPng,
  vegaLiteToSvg,
  xmlEscape,
} from './private/render.js';
