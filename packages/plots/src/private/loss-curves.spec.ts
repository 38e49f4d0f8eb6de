import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { flattenLossSeries, lossCurvesPng, lossCurvesSpec, seriesChartPng } from './loss-curves.js';

const curve = (task: string, k: number, n = 60) =>
  Array.from({ length: n }, (_, step) => ({ step, task, loss: 3 * Math.exp(-step / k) + 0.3 }));

async function pixels(png: Buffer): Promise<Buffer> {
  return (await sharp(png).raw().toBuffer({ resolveWithObject: true })).data;
}

describe('loss curves', () => {
  it('renders a valid PNG of exactly the requested size', async () => {
    const png = await lossCurvesPng([...curve('MSA', 20), ...curve('ER', 40)], { width: 640, height: 320 });
    assert.deepEqual(png.subarray(1, 4).toString('ascii'), 'PNG');
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual([meta.width, meta.height], [640, 320]);
    const scaled = await sharp(
      await lossCurvesPng(curve('MSA', 20), { width: 300, height: 200, scale: 2 }),
    ).metadata();
    assert.deepEqual([scaled.width, scaled.height], [600, 400]);
  });

  it('gives different images for different losses, and the same image for the same input', async () => {
    const a = await lossCurvesPng([...curve('MSA', 20), ...curve('ER', 40)]);
    const b = await lossCurvesPng([...curve('MSA', 20), ...curve('ER', 10)]);
    const a2 = await lossCurvesPng({ ER: curve('ER', 40), MSA: curve('MSA', 20) });
    assert.notDeepEqual(await pixels(a), await pixels(b));
    assert.deepEqual(await pixels(a), await pixels(a2));
  });

  it('draws stage boundaries and a smoothed curve when asked', async () => {
    const rows = curve('FER', 15);
    const spec = lossCurvesSpec(rows, { smooth: 5, stageBoundaries: [{ step: 30, label: 'stage 2' }] }) as {
      layer: unknown[];
    };
    assert.equal(spec.layer.length, 4);
    const plain = await pixels(await lossCurvesPng(rows));
    const marked = await pixels(
      await lossCurvesPng(rows, { stageBoundaries: [{ step: 30, label: 'stage 2' }] }),
    );
    assert.notDeepEqual(plain, marked);
  });

  it('accepts grouped or flat series and rejects an empty one', async () => {
    assert.deepEqual(flattenLossSeries({ MSA: [{ step: 1, loss: 2 }] }), [{ step: 1, task: 'MSA', loss: 2 }]);
    await assert.rejects(
      lossCurvesPng([{ step: 0, task: 'MSA', loss: Number.NaN }]),
      /no finite loss values/,
    );
  });

  it('draws other per-step series (loss weights) with their own axis title', async () => {
    const points = Array.from({ length: 20 }, (_, step) => [
      { step, series: 'MSA', value: 1 + 0.02 * step },
      { step, series: 'ER', value: 1 - 0.02 * step },
    ]).flat();
    const png = await seriesChartPng(points, {
      title: 'Loss weights',
      yTitle: 'weight',
      width: 400,
      height: 240,
    });
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height], [400, 240]);
    const other = await seriesChartPng(points, {
      title: 'Loss weights',
      yTitle: 'w_k',
      width: 400,
      height: 240,
    });
    assert.notDeepEqual(await pixels(png), await pixels(other), 'the axis title is drawn');
  });
});
