import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { peakFramePng, type RawFrame } from './peak-frame.js';

// The shared data folder, as @emoverse/testing's sharedDir() finds it (EMOVERSE_SHARED or <repo>/../shared).
const shared = process.env.EMOVERSE_SHARED
  ? resolve(process.env.EMOVERSE_SHARED)
  : resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared');

/** A grey 160x120 RGB frame. */
function greyFrame(): RawFrame {
  return { data: new Uint8Array(160 * 120 * 3).fill(128), width: 160, height: 120, channels: 3 };
}

async function raw(png: Buffer) {
  return sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
}

describe('peak frame', () => {
  it('scales a small frame up, adds the AU panel, and draws the face box in green', async () => {
    const png = await peakFramePng(
      greyFrame(),
      { x: 40, y: 20, width: 80, height: 80 },
      undefined,
      { AU06: 2, AU12: 4 },
      { panelWidth: 300 },
    );
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    // 120 px high is below minHeight 240: scaled x2 -> 320 x 240, plus the 300 px panel
    assert.deepEqual([meta.width, meta.height], [320 + 300, 240]);
    const { data, info } = await raw(png);
    const at = (x: number, y: number) =>
      Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    const [r, g, b] = at(80, 100); // left edge of the box (x = 40 * 2), halfway down
    assert.ok(g > 180 && r < 80 && b < 80, `box edge is green, got ${[r, g, b]}`);
    assert.deepEqual(at(160, 120), [128, 128, 128], 'inside the box the frame is untouched');
  });

  it('draws landmarks, and different AUs give different images', async () => {
    const box = { x: 40, y: 20, width: 80, height: 80 };
    const a = await raw(await peakFramePng(greyFrame(), box, undefined, { AU06: 2, AU12: 4 }));
    const b = await raw(await peakFramePng(greyFrame(), box, undefined, { AU06: 2, AU12: 1 }));
    const c = await raw(await peakFramePng(greyFrame(), box, [[80, 60]], { AU06: 2, AU12: 4 }));
    const d = await raw(
      await peakFramePng(greyFrame(), box, undefined, { AU06: 2, AU12: 4 }, { highlight: ['AU12'] }),
    );
    assert.notDeepEqual(a.data, b.data);
    assert.notDeepEqual(a.data, c.data);
    assert.notDeepEqual(a.data, d.data);
    const i = (120 * c.info.width + 160) * 3; // the landmark at (80, 60) -> (160, 120)
    assert.ok(c.data[i] > 200 && c.data[i + 1] < 80, 'landmark dot is red');
  });

  it('takes encoded bytes (the shared sample JPEG) as well as raw pixels', async () => {
    const path = join(shared, 'data/openface/samples/sample1.jpg');
    assert.ok(existsSync(path), `missing ${path}; set EMOVERSE_SHARED`);
    const jpeg = readFileSync(path);
    const src = await sharp(jpeg).metadata();
    const png = await peakFramePng(
      jpeg,
      { x: 100, y: 60, width: 200, height: 220 },
      [{ x: 150, y: 150 }],
      [
        { au: 'AU12', intensity: 3.4, name: 'Lip corner puller' },
        { au: 'AU06', intensity: 2.1, name: 'Cheek raiser' },
      ],
      { title: 'frame 257 (peak) - joy', highlight: ['AU06', 'AU12'] },
    );
    const meta = await sharp(png).metadata();
    const h = Math.min(Math.max(src.height!, 240), 480);
    assert.equal(meta.height, h);
    assert.equal(meta.width, Math.round((src.width! * h) / src.height!) + 340);
    // same pixels given as raw RGB: same image
    const rgb = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const fromRaw = await peakFramePng(
      { data: rgb.data, width: rgb.info.width, height: rgb.info.height, channels: 3 },
      { x: 100, y: 60, width: 200, height: 220 },
      [{ x: 150, y: 150 }],
      [
        { au: 'AU12', intensity: 3.4, name: 'Lip corner puller' },
        { au: 'AU06', intensity: 2.1, name: 'Cheek raiser' },
      ],
      { title: 'frame 257 (peak) - joy', highlight: ['AU06', 'AU12'] },
    );
    assert.deepEqual((await raw(fromRaw)).data, (await raw(png)).data);
  });
});
