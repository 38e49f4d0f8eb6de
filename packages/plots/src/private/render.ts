// Chart rendering without a browser: vega-lite spec -> vega spec -> SVG (a headless vega View with
// renderer 'none') -> PNG (sharp, whose librsvg draws the text with the system fonts via fontconfig;
// scripts/setup-system.sh installs DejaVu so a fresh machine has at least one font).
import sharp from 'sharp';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** The font every chart and overlay asks for; DejaVu Sans ships with Debian's fonts-dejavu-core. */
export const FONT_FAMILY = 'DejaVu Sans, Verdana, sans-serif';

export type VegaLiteSpec = TopLevelSpec;

/** Renders a vega-lite spec to SVG text (no network: data must be inline `values`). */
export async function vegaLiteToSvg(spec: VegaLiteSpec): Promise<string> {
  const vegaSpec = compile(spec, {
    config: { font: FONT_FAMILY, ...(spec as { config?: object }).config },
  }).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises SVG text to PNG bytes (`scale` > 1 for a sharper image at the same layout). */
export async function svgToPng(svg: string, options: { scale?: number } = {}): Promise<Buffer> {
  const density = 72 * (options.scale ?? 1);
  return sharp(Buffer.from(svg), { density }).png().toBuffer();
}

export async function vegaLiteToPng(spec: VegaLiteSpec, options: { scale?: number } = {}): Promise<Buffer> {
  return svgToPng(await vegaLiteToSvg(spec), options);
}

/** Escapes text for use inside SVG/XML. */
export function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
