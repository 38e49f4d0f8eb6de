// End to end on real media: @emoverse/video (ffmpeg, faces, landmarks, people) → AUs → S_f → peaks,
// checked against real OpenFace output of the same video.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { type AnalyzeOptions, analyzeVideo } from '@emoverse/video';
import { CLAIMED_AUS } from './claimed.js';
import { compareWithOpenFace, openFacePeak } from './compare.js';
import { readOpenFaceCsv, toOpenFaceRows } from './openface-csv.js';
import { scoreAus } from './peaks.js';
import type { FrameGeometry } from './types.js';

const shared = process.env.EMOVERSE_SHARED ?? resolve(import.meta.dirname, '../../../../../shared');
const media = (p: string) => join(shared, 'data', p);
const tmp = mkdtempSync(join(tmpdir(), 'emoverse-facs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function geometry(path: string, opts: AnalyzeOptions = {}): Promise<FrameGeometry[]> {
  const frames: FrameGeometry[] = [];
  for await (const f of analyzeVideo(path, opts))
    frames.push({ index: f.index, timeS: f.timeS, faces: f.faces });
  return frames;
}

describe('video → AUs → peaks', () => {
  // The numbers the READMEs claim (packages/facs/README.md), each asserted with a margin of 0.02 in r and
  // one frame (1/15 s) in time.
  test('default.wmv agrees with OpenFace as the README says: claimed mean r 0.758, key AUs, peak 0.33 s', async () => {
    const frames = await geometry(media('openface/samples/default.wmv'));
    const analysis = scoreAus(frames);
    const reference = readOpenFaceCsv(readFileSync(media('openface/reference/default.csv'), 'utf8'));
    const cmp = compareWithOpenFace(toOpenFaceRows(analysis.frames, frames), reference, {
      ours: 0,
      reference: 0,
    });
    assert.equal(cmp.matchedFrames, 288);
    const r = Object.fromEntries(cmp.perAu.map((a) => [a.au, a.r]));
    const claimed = CLAIMED_AUS.filter((a) => Number.isFinite(r[a]));
    assert.equal(claimed.length, CLAIMED_AUS.length);
    const meanR = claimed.reduce((s, a) => s + r[a], 0) / claimed.length;
    console.log(`default.wmv: claimed mean r ${meanR.toFixed(3)}`);
    assert.ok(meanR >= 0.758 - 0.02, `mean r ${meanR}`);
    const readme: Record<string, number> = { AU12: 0.98, AU25: 0.96, AU26: 0.82, AU45: 0.91 };
    for (const [au, claim] of Object.entries(readme)) assert.ok(r[au] >= claim - 0.02, `${au} r = ${r[au]}`);
    const delta = analysis.peak!.timeS - openFacePeak(reference)!.timestamp;
    assert.ok(Math.abs(delta) <= 0.334 + 1 / 15, `peak delta ${delta} s`);
  });

  test('single_face.mp4: the smile is the peak (near 0.9 s), with AU12 and AU25 active', async () => {
    const analysis = scoreAus(await geometry(media('faces/single_face.mp4'), { fps: 15 }));
    assert.equal(analysis.peaks.length, 1);
    const peak = analysis.peak!;
    assert.ok(Math.abs(peak.timeS - 0.9) <= 0.6, `peak at ${peak.timeS} s`);
    assert.ok(peak.aus.AU12 >= 1, `AU12 ${peak.aus.AU12}`);
    assert.ok(peak.aus.AU25 >= 1, `AU25 ${peak.aus.AU25}`);
  });

  test('two people side by side: each has a track and a peak, eq. 2 picks the higher', async () => {
    const clip = join(tmp, 'pair.mp4');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-i',
      media('faces/single_face.mp4'),
      '-ss',
      '16.5',
      '-i',
      media('faces/WolfgangLanger_Pexels.mp4'),
      '-filter_complex',
      '[0:v][1:v]hstack=inputs=2,fps=10',
      '-t',
      '2.4',
      '-an',
      '-c:v',
      'mpeg4',
      '-q:v',
      '3',
      clip,
    ]);
    const analysis = scoreAus(await geometry(clip));
    assert.equal(analysis.peaks.length, 2);
    assert.notEqual(analysis.peaks[0].personId, analysis.peaks[1].personId);
    const best = Math.max(...analysis.peaks.map((p) => p.S_f));
    assert.equal(analysis.peak!.S_f, best);
  });
});
