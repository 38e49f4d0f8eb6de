import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeFrames } from './decode.js';
import { VideoError } from './errors.js';
import { probeVideo } from './probe.js';

const shared = process.env.EMOVERSE_SHARED ?? resolve(import.meta.dirname, '../../../../../shared');
const DEFAULT_WMV = join(shared, 'data/openface/samples/default.wmv');
const SINGLE_MP4 = join(shared, 'data/faces/single_face.mp4');
const tmp = mkdtempSync(join(tmpdir(), 'emoverse-decode-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(path: string, opts = {}) {
  const out = [];
  for await (const f of decodeFrames(path, opts))
    out.push({ index: f.index, timeS: f.timeS, w: f.width, h: f.height, n: f.rgb.length });
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof VideoError, `expected VideoError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('probe and decode', () => {
  test('default.wmv (ASF/WMV2): 288 frames at 15 fps, OpenFace timestamps', async () => {
    const info = await probeVideo(DEFAULT_WMV);
    assert.equal(info.width, 640);
    assert.equal(info.height, 480);
    assert.equal(info.fps, 15);
    const frames = await collect(DEFAULT_WMV);
    assert.equal(frames.length, 288);
    assert.equal(frames[1].timeS.toFixed(3), '0.067');
    assert.equal(frames[256].timeS.toFixed(3), '17.067');
    assert.ok(frames.every((f) => f.n === 640 * 480 * 3));
  });

  test('without a sampling rate every stored frame is decoded (as OpenFace reads them)', async () => {
    // 472 stored frames at 23.976 fps; resampling with the fps filter would give 471.
    const frames = await collect(join(shared, 'data/faces/WolfgangLanger_Pexels.mp4'));
    assert.equal(frames.length, 472);
  });

  test('a span at a chosen sampling rate', async () => {
    const frames = await collect(SINGLE_MP4, { startS: 1, endS: 2, fps: 10 });
    assert.equal(frames.length, 10);
    assert.ok(Math.abs(frames[0].timeS - 1) < 1e-9);
    assert.ok(Math.abs(frames[9].timeS - 1.9) < 1e-9);
  });

  test('a 4K video is scaled down to at most 1280 px', async () => {
    const path = join(tmp, 'uhd.mp4');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=3840x2160:rate=2:duration=1',
      '-c:v',
      'mpeg4',
      path,
    ]);
    const frames = await collect(path);
    assert.equal(frames.length, 2);
    assert.equal(frames[0].w, 1280);
    assert.equal(frames[0].h, 720);
  });

  test('bad input gives a clear VideoError, never a crash', async () => {
    await rejectsWith(collect(join(tmp, 'missing.mp4')), 'NOT_FOUND');
    const corrupt = join(tmp, 'corrupt.mp4');
    writeFileSync(corrupt, Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 251)));
    await rejectsWith(collect(corrupt), 'DECODE_FAILED');
    const truncated = join(tmp, 'truncated.mp4');
    const whole = readFileSync(SINGLE_MP4);
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 3)));
    await rejectsWith(collect(truncated), 'DECODE_FAILED');
    const audio = join(tmp, 'audio.wav');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', audio]);
    await rejectsWith(collect(audio), 'NO_VIDEO_STREAM');
    await rejectsWith(collect(SINGLE_MP4, { startS: 1, endS: 1 }), 'EMPTY_SPAN');
    await rejectsWith(collect(SINGLE_MP4, { startS: 30, endS: 31 }), 'EMPTY_SPAN');
    await rejectsWith(collect(SINGLE_MP4, { fps: 0 }), 'INVALID_ARGUMENT');
  });
});
