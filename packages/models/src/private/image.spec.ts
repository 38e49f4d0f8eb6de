import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageProcessorFromHf, preprocessImage } from './image.js';

describe('image preprocessing', () => {
  it('a flat grey image normalises to the same value everywhere, per channel', () => {
    const img = { width: 50, height: 40, data: new Uint8Array(50 * 40 * 3).fill(128) };
    const sig = preprocessImage(img, imageProcessorFromHf('siglip', 32));
    assert.equal(sig.length, 3 * 32 * 32);
    for (const v of sig) assert.ok(Math.abs(v - (128 / 255 - 0.5) / 0.5) < 1e-5);
    const clip = preprocessImage(img, imageProcessorFromHf('clip', 32));
    assert.ok(Math.abs(clip[0] - (128 / 255 - 0.48145466) / 0.26862954) < 1e-5);
    assert.ok(Math.abs(clip[2 * 32 * 32] - (128 / 255 - 0.40821073) / 0.27577711) < 1e-5);
  });

  it('CLIP center-crops the resized short side; SigLIP squashes', () => {
    // left half black, right half white, 64x32: CLIP resizes to 64x32 (short edge 32) then crops
    // the middle 32 columns, which straddle the edge; SigLIP squashes the whole image.
    const w = 64;
    const h = 32;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = w / 2; x < w; x++) data.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const px = preprocessImage(
      { width: w, height: h, data },
      { ...imageProcessorFromHf('clip', 32), mean: [0, 0, 0], std: [1, 1, 1] },
    );
    assert.ok(px[0] < 0.01 && px[31] > 0.99, 'crop keeps the black/white boundary in the middle');
    const sq = preprocessImage(
      { width: w, height: h, data },
      { ...imageProcessorFromHf('siglip', 16), mean: [0, 0, 0], std: [1, 1, 1] },
    );
    assert.ok(sq[0] < 0.01 && sq[15] > 0.99 && sq[7] < 0.2 && sq[8] > 0.8);
  });
});
