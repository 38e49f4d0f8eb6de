// End to end on real media: @emoverse/video (ffmpeg, faces, landmarks, people) → AUs → S_f → peaks,
// checked against real OpenFace output of three clips.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { type AnalyzeOptions, analyzeVideo } from '@emoverse/video';
import { CLAIMED_AUS } from './claimed.js';
import { evaluateAgainstOpenFace } from './compare.js';
import { readOpenFaceCsv } from './openface-csv.js';
import { scoreAus, sumAus } from './peaks.js';
import { AU_NAMES, type FrameGeometry } from './types.js';

const shared = process.env.EMOVERSE_SHARED ?? resolve(import.meta.dirname, '../../../../../shared');
const media = (p: string) => join(shared, 'data', p);
const STATIC = 'openface/reference/openface-2.0.2-clnf-static';
const tmp = mkdtempSync(join(tmpdir(), 'emoverse-facs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function geometry(path: string, opts: AnalyzeOptions = {}): Promise<FrameGeometry[]> {
  const frames: FrameGeometry[] = [];
  for await (const f of analyzeVideo(path, opts))
    frames.push({ index: f.index, timeS: f.timeS, faces: f.faces });
  return frames;
}

describe('video → AUs → peaks', () => {
  // The numbers packages/facs/README.md reports (npm run eval:au), each asserted with a margin of 0.02 in
  // r and one frame in time. default.wmv is the development clip (the estimated AUs' gains were fitted on
  // it); single_face and face_noface are held out.
  const clips = [
    {
      video: 'openface/samples/default.wmv',
      ref: 'openface/reference/default.csv',
      meanR: 0.777,
      sfR: 0.903,
      peakS: 0.4,
      frames: 288,
    },
    {
      video: 'faces/single_face.mp4',
      ref: `${STATIC}/single_face.csv`,
      meanR: 0.943,
      sfR: 0.995,
      peakS: 0,
      frames: 72,
    },
    {
      video: 'faces/face_noface.mov',
      ref: `${STATIC}/face_noface.csv`,
      meanR: 0.876,
      sfR: 0.99,
      peakS: 0,
      frames: 72,
    },
  ];
  for (const c of clips) {
    test(`${c.video} agrees with OpenFace as the README says: mean r ${c.meanR}, sf_r ${c.sfR}, peak ${c.peakS} s`, async () => {
      const frames = await geometry(media(c.video));
      const analysis = scoreAus(frames);
      const reference = readOpenFaceCsv(readFileSync(media(c.ref), 'utf8'));
      const e = evaluateAgainstOpenFace(frames, analysis, reference, CLAIMED_AUS);
      console.log(
        `${c.video}: mean_r=${e.meanR.toFixed(3)} sf_r=${e.sfR.toFixed(3)} peak_delta_s=${e.peakDeltaS.toFixed(3)}`,
      );
      assert.equal(e.matchedFrames, c.frames);
      assert.ok(e.meanR >= c.meanR - 0.02, `mean r ${e.meanR}`);
      assert.ok(e.sfR >= c.sfR - 0.02, `sf_r ${e.sfR}`);
      assert.ok(Math.abs(e.peakDeltaS) <= c.peakS + 1 / 15 + 1e-6, `peak delta ${e.peakDeltaS} s`);
      // Estimated AUs stay below 3 at the peak; S_f sums the measured ones only.
      for (const au of AU_NAMES.filter((a) => !CLAIMED_AUS.includes(a)))
        assert.ok(e.ourPeak!.aus[au] <= 3, `${au} ${e.ourPeak!.aus[au]} at the peak`);
      assert.ok(Math.abs(e.ourPeak!.S_f - sumAus(e.ourPeak!.aus, CLAIMED_AUS)) < 1e-9);
    });
  }

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
