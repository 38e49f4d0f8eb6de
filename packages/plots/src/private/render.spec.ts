import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { svgToPng, vegaLiteToSvg, xmlEscape } from './render.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function inkPixels(png: Buffer): Promise<number> {
  const { data, info } = await sharp(png)
    .flatten({ background: '#ffffff' })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < info.width * info.height; i++) if (data[i] < 128) n++;
  return n;
}

describe('render', () => {
  it('draws text headless: an SVG with text has ink where the same SVG without it has none', async () => {
    const svg = (text: string) =>
      `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="white"/>` +
      `<text x="5" y="28" font-family="DejaVu Sans, sans-serif" font-size="20">${text}</text></svg>`;
    const withText = await svgToPng(svg('EmoVerse 66.74'));
    assert.deepEqual(withText.subarray(0, 8), PNG_SIGNATURE);
    assert.equal(await inkPixels(await svgToPng(svg(''))), 0);
    assert.ok((await inkPixels(withText)) > 100, 'a font was found and glyphs were drawn');
  });

  it('renders a vega-lite spec to SVG with its axis title as text', async () => {
    const svg = await vegaLiteToSvg({
      data: {
        values: [
          { a: 1, b: 2 },
          { a: 2, b: 3 },
        ],
      },
      mark: 'point',
      encoding: {
        x: { field: 'a', type: 'quantitative', title: 'alpha axis' },
        y: { field: 'b', type: 'quantitative' },
      },
    });
    assert.match(svg, /^<svg/);
    assert.match(svg, /alpha axis/);
    const meta = await sharp(await svgToPng(svg, { scale: 2 })).metadata();
    const plain = await sharp(await svgToPng(svg)).metadata();
    assert.equal(meta.width, plain.width! * 2);
  });

  it('escapes XML', () => {
    assert.equal(xmlEscape(`a<b & "c"`), 'a&#60;b &#38; &#34;c&#34;');
  });
});
