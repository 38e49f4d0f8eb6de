// The peak frame with the action units it was captioned from (issue 10's report): the frame with its
// face box and landmarks drawn over it, and beside it a panel listing each AU with a bar for its
// intensity (OpenFace scale 0-5). AUs in AU_common (the ones the FER caption used) are highlighted.
import sharp from 'sharp';
import { FONT_FAMILY, xmlEscape } from './render.js';

/** Raw interleaved pixels (RGB or RGBA, row-major), as ffmpeg's rawvideo output gives them. */
export interface RawFrame {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Point = readonly [number, number] | { x: number; y: number };

export interface AuReading {
  /** e.g. "AU12". */
  au: string;
  /** Intensity on OpenFace's 0-5 scale. */
  intensity: number;
  /** FACS name, e.g. "Lip corner puller". */
  name?: string;
}

export interface PeakFrameOptions {
  /** Heading above the AU list, e.g. "frame 257 (peak) - joy". */
  title?: string;
  /** AUs to highlight: AU_common of the caption. */
  highlight?: readonly string[];
  /** The frame is scaled so that its height falls in [minHeight, maxHeight]. */
  minHeight?: number;
  maxHeight?: number;
  panelWidth?: number;
  /** Upper end of the intensity bars. */
  maxIntensity?: number;
}

export const BOX_COLOR = '#00e000';
const LANDMARK_COLOR = '#ff2020';
const ROW = 22;

function toAuList(aus: readonly AuReading[] | Readonly<Record<string, number>>): AuReading[] {
  if (Array.isArray(aus)) return [...(aus as readonly AuReading[])];
  return Object.entries(aus as Record<string, number>).map(([au, intensity]) => ({ au, intensity }));
}

function xy(p: Point): [number, number] {
  return Array.isArray(p) ? [p[0], p[1]] : [(p as { x: number }).x, (p as { y: number }).y];
}

/**
 * PNG bytes: the frame (raw pixels, or encoded PNG/JPEG bytes) with the face box, optional landmarks,
 * and a panel of AU intensities. Coordinates are in the frame's own pixels.
 */
export async function peakFramePng(
  frame: RawFrame | Uint8Array,
  faceBox: Box | undefined,
  landmarks: readonly Point[] | undefined,
  aus: readonly AuReading[] | Readonly<Record<string, number>>,
  options: PeakFrameOptions = {},
): Promise<Buffer> {
  const input =
    frame instanceof Uint8Array
      ? sharp(frame)
      : sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: frame.channels } });
  const meta = frame instanceof Uint8Array ? await sharp(frame).metadata() : frame;
  if (!meta.width || !meta.height) throw new Error('peakFramePng: cannot read the frame size');
  const minH = options.minHeight ?? 240;
  const maxH = options.maxHeight ?? 480;
  const s = meta.height < minH ? minH / meta.height : meta.height > maxH ? maxH / meta.height : 1;
  const fw = Math.round(meta.width * s);
  const fh = Math.round(meta.height * s);

  const list = toAuList(aus).sort((a, b) => a.au.localeCompare(b.au, 'en', { numeric: true }));
  const highlight = new Set(options.highlight ?? []);
  const panelW = options.panelWidth ?? 340;
  const maxI = options.maxIntensity ?? 5;
  const titleH = options.title ? 30 : 8;
  const height = Math.max(fh, titleH + ROW * (list.length + 1) + 8);

  // overlay on the frame: face box and landmarks, scaled to the displayed size
  const lw = Math.max(2, Math.round(fh / 160));
  const shapes: string[] = [];
  if (faceBox) {
    shapes.push(
      `<rect x="${faceBox.x * s}" y="${faceBox.y * s}" width="${faceBox.width * s}" height="${faceBox.height * s}" ` +
        `fill="none" stroke="${BOX_COLOR}" stroke-width="${lw}"/>`,
    );
  }
  for (const p of landmarks ?? []) {
    const [x, y] = xy(p);
    shapes.push(`<circle cx="${x * s}" cy="${y * s}" r="${lw}" fill="${LANDMARK_COLOR}"/>`);
  }
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${fw}" height="${fh}">${shapes.join('')}</svg>`;

  // the AU panel: label, bar, value; AU_common rows in bold with a coloured bar
  const barX = 200;
  const barW = panelW - barX - 48;
  const rows: string[] = [];
  if (options.title) {
    rows.push(`<text x="10" y="20" font-size="15" font-weight="bold">${xmlEscape(options.title)}</text>`);
  }
  rows.push(`<text x="10" y="${titleH + 14}" font-size="12" fill="#555">action unit</text>`);
  rows.push(`<text x="${barX}" y="${titleH + 14}" font-size="12" fill="#555">intensity (0-${maxI})</text>`);
  list.forEach((a, i) => {
    const y = titleH + ROW * (i + 1);
    const on = highlight.has(a.au);
    const label = a.name ? `${a.au} ${a.name}` : a.au;
    const clipped = label.length > 28 ? `${label.slice(0, 27)}…` : label;
    const w = Math.max(0, Math.min(1, a.intensity / maxI)) * barW;
    rows.push(
      `<text x="10" y="${y + 14}" font-size="12" font-weight="${on ? 'bold' : 'normal'}">${xmlEscape(clipped)}</text>`,
      `<rect x="${barX}" y="${y + 4}" width="${barW}" height="12" fill="#eee"/>`,
      `<rect x="${barX}" y="${y + 4}" width="${w.toFixed(1)}" height="12" fill="${on ? '#d9480f' : '#4c78a8'}"/>`,
      `<text x="${barX + barW + 6}" y="${y + 14}" font-size="12">${a.intensity.toFixed(2)}</text>`,
    );
  });
  const panel =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${panelW}" height="${height}" font-family="${FONT_FAMILY}">` +
    `<rect width="${panelW}" height="${height}" fill="white"/>${rows.join('')}</svg>`;

  const base = await input.resize(fw, fh).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return sharp({ create: { width: fw + panelW, height, channels: 3, background: '#ffffff' } })
    .composite([
      { input: base.data, raw: { width: fw, height: fh, channels: base.info.channels }, left: 0, top: 0 },
      { input: Buffer.from(overlay), left: 0, top: 0 },
      { input: Buffer.from(panel), left: fw, top: 0 },
    ])
    .png()
    .toBuffer();
}
