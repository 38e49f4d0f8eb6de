import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXPRESSIONS, headPose } from '@emoverse/video';
import { genericFaceLandmarks } from '@emoverse/video/testing';
import { CLAIMED_AUS } from './claimed.js';
import { AU_RULES, intensities, neutralBaseline, ruleValue } from './intensity.js';
import { faceMeasures } from './measures.js';
import { exclusionReason, noPeakReason, scoreAus, sumAus } from './peaks.js';
import { AU_NAMES, EXPRESSION_NAMES, type FaceGeometry, type FrameGeometry, type Point } from './types.js';

/** A schematic face (IOD = 80 px) whose lips part by `gap` inter-ocular distances. */
function face(personId: number, gap: number, extra: Partial<FaceGeometry> = {}): FaceGeometry {
  const mesh: number[][] = Array.from({ length: 478 }, () => [260, 250, 0]);
  const set = (i: number, x: number, y: number) => {
    mesh[i] = [x, y, 0];
  };
  set(33, 200, 200);
  set(133, 240, 200);
  set(362, 280, 200);
  set(263, 320, 200);
  for (const i of [158, 159, 160, 385, 386, 387]) set(i, i < 300 ? 220 : 300, 192);
  for (const i of [153, 145, 144, 380, 374, 373]) set(i, i < 300 ? 220 : 300, 208);
  set(107, 235, 170);
  set(336, 285, 170);
  set(2, 260, 260);
  set(0, 260, 280);
  set(13, 260, 290);
  const drop = gap * 80;
  set(14, 260, 290 + drop);
  set(17, 260, 305 + drop);
  set(152, 260, 350 + drop);
  set(61, 230, 291 + drop / 2);
  set(291, 290, 291 + drop / 2);
  const landmarks: Point[] = Array.from({ length: 68 }, () => ({ x: 260, y: 250 }));
  for (let i = 36; i < 42; i++) landmarks[i] = { x: 220 + (i - 38.5) * 8, y: 200 };
  for (let i = 42; i < 48; i++) landmarks[i] = { x: 300 + (i - 44.5) * 8, y: 200 };
  for (let i = 17; i < 27; i++) landmarks[i] = { x: 190 + (i - 17) * 15, y: 175 };
  return {
    personId,
    score: 0.95,
    landmarks,
    mesh,
    pose: { pitch: 0, yaw: 0, roll: 0 },
    expression: { neutral: gap === 0 ? 0.9 : 0.1 },
    ...extra,
  };
}

const video = (rows: FaceGeometry[][]): FrameGeometry[] =>
  rows.map((faces, index) => ({ index, timeS: index / 10, faces }));

describe('measures and intensities', () => {
  test('measures are in inter-ocular distances and do not change with scale', () => {
    const m = faceMeasures(face(0, 0.25));
    assert.ok(Math.abs(m.lipsGap - 0.25) < 1e-9);
    const big = face(0, 0.25);
    const scaled = {
      ...big,
      mesh: big.mesh.map((p) => [p[0] * 2, p[1] * 2, 0]),
      landmarks: big.landmarks.map((p) => ({ x: p.x * 2, y: p.y * 2 })),
    };
    assert.ok(Math.abs(faceMeasures(scaled).lipsGap - 0.25) < 1e-9);
  });

  test('zero at the neutral baseline, growing with the action, clamped to 5', () => {
    const neutral = faceMeasures(face(0, 0));
    const baseline = neutralBaseline(
      [{ measures: neutral, neutral: 1 }].concat(Array(9).fill({ measures: neutral, neutral: 1 })),
    );
    assert.equal(sumAus(intensities(neutral, baseline)), 0);
    const small = intensities(faceMeasures(face(0, 0.1)), baseline).AU25;
    const large = intensities(faceMeasures(face(0, 0.3)), baseline).AU25;
    assert.ok(small > 0 && large > small, `${small} ${large}`);
    assert.equal(intensities(faceMeasures(face(0, 2)), baseline).AU25, 5);
  });

  test('the baseline comes from neutral frames when there are enough, else from a quantile', () => {
    const samples = [0, 0, 0, 0, 0, 0.3, 0.3, 0.3, 0.3, 0.3].map((g) => ({
      measures: faceMeasures(face(0, g)),
      neutral: g === 0 ? 0.9 : 0.05,
    }));
    const fromNeutral = neutralBaseline(samples);
    assert.ok(Math.abs(fromNeutral.AU25 - 0) < 1e-9);
    // Without expression probabilities: the 20% quantile on the "absent" side.
    const fallback = neutralBaseline(samples.map((s) => ({ measures: s.measures })));
    assert.ok(Math.abs(fallback.AU25 - ruleValue(AU_RULES.AU25, samples[0].measures)) < 1e-9);
  });
});

describe('S_f and peaks (eqs. 1-2)', () => {
  const gaps = [0, 0, 0, 0, 0, 0.1, 0.3, 0.1, 0, 0];

  test('S_f sums the measured intensities; the peak is the frame with the largest S_f', () => {
    const r = scoreAus(video(gaps.map((g) => [face(0, g)])), { smooth: false });
    assert.deepEqual(r.sfAus, CLAIMED_AUS);
    for (const f of r.frames) assert.ok(Math.abs(f.S_f - sumAus(f.aus, CLAIMED_AUS)) < 1e-9);
    assert.equal(r.peaks.length, 1);
    assert.equal(r.peak!.index, 6);
    assert.equal(r.peak!.personId, 0);
    assert.ok(r.peak!.aus.AU25 > 3);
  });

  test('frames with an extreme pose or a low confidence are not peak candidates', () => {
    const rows = gaps.map((g) => [face(0, g)]);
    rows[8] = [face(0, 0.6, { pose: { pitch: 0, yaw: 1.2, roll: 0 } })];
    rows[9] = [face(0, 0.6, { score: 0.3 })];
    const r = scoreAus(video(rows), { smooth: false });
    assert.equal(r.frames[8].excluded, 'pose');
    assert.equal(r.frames[9].excluded, 'confidence');
    assert.equal(r.peak!.index, 6);
    assert.equal(exclusionReason({ score: 0.9, pose: { pitch: 0.7, yaw: 0, roll: 0 } }), 'pose');
  });

  test("a nod far from the person's usual pose (within the absolute limit) is not a peak candidate", () => {
    const rows = gaps.map((g) => [face(0, g, { pose: { pitch: 0.35, yaw: 0, roll: 0 } })]);
    rows[8] = [face(0, 0.6, { pose: { pitch: -0.1, yaw: 0, roll: 0 } })]; // 26° from the usual 20°
    const r = scoreAus(video(rows), { smooth: false });
    assert.equal(exclusionReason({ score: 0.95, pose: { pitch: -0.1, yaw: 0, roll: 0 } }), undefined);
    assert.equal(r.frames[8].excluded, 'pose');
    assert.equal(r.frames[6].excluded, undefined);
    assert.equal(r.peak!.index, 6);
  });

  test("a video whose faces are all in profile has no peak, for the reason 'pose'", () => {
    // The head pose video's estimator reads from 68 landmarks of a generic face turned 70° (a profile).
    const turned = (yawDeg: number) => headPose(genericFaceLandmarks(yawDeg));
    const profile = turned(70);
    assert.ok(Math.abs(Math.abs(profile.yaw * (180 / Math.PI)) - 70) < 2, `${profile.yaw}`);
    const rows = gaps.map((g) => [face(0, g, { pose: profile }), face(1, g, { pose: turned(-70) })]);
    const r = scoreAus(video(rows));
    assert.equal(r.frames.length, 2 * gaps.length, 'the faces are found and scored');
    assert.ok(r.frames.every((f) => f.excluded === 'pose'));
    assert.equal(r.peak, null);
    assert.equal(noPeakReason(r), 'pose');
    // One frontal frame is not enough for a peak either, but the reason is then the frame count.
    rows[4] = [face(0, 0.3, { pose: turned(5) })];
    assert.equal(noPeakReason(scoreAus(video(rows))), 'too_few_frames');
  });

  test('with no peak, the reason says why: no face at all, low confidence, or none (a peak exists)', () => {
    assert.equal(noPeakReason(scoreAus(video([[], []]))), 'no_face');
    const faint = gaps.map((g) => [face(0, g, { score: 0.3 })]);
    assert.equal(noPeakReason(scoreAus(video(faint))), 'confidence');
    assert.equal(noPeakReason(scoreAus(video(gaps.map((g) => [face(0, g)])))), undefined);
  });

  test('an estimated AU is reported but takes no part in S_f or the peak', () => {
    const rows = gaps.map((g) => [face(0, g)]);
    const lowered = face(0, 0);
    lowered.landmarks = lowered.landmarks.map((p, i) => (i >= 17 && i < 27 ? { x: p.x, y: p.y + 24 } : p));
    rows[3] = [lowered];
    const r = scoreAus(video(rows), { smooth: false });
    assert.ok(!CLAIMED_AUS.includes('AU04'));
    assert.ok(r.frames[3].aus.AU04 > 1, `AU04 ${r.frames[3].aus.AU04}`);
    assert.equal(r.frames[3].S_f, 0);
    assert.equal(r.peak!.index, 6);
    // Summing every AU instead is still possible, and then the brows count.
    const all = scoreAus(video(rows), { smooth: false, sfAus: AU_NAMES });
    assert.ok(all.frames[3].S_f > 1);
  });

  test('each person has a peak; eq. 2 keeps the person whose peak is highest; short tracks are left out', () => {
    const rows = gaps.map((g, i) => {
      const faces = [face(0, g), face(1, i === 3 ? 0.4 : 0)];
      if (i < 3) faces.push(face(2, i === 1 ? 1 : 0)); // only 3 frames
      return faces;
    });
    const r = scoreAus(video(rows), { smooth: false });
    assert.deepEqual(
      r.peaks.map((p) => [p.personId, p.index]),
      [
        [0, 6],
        [1, 3],
      ],
    );
    assert.equal(r.peak!.personId, 1);
    assert.equal(r.frames.filter((f) => f.personId === 2).length, 3);
    // A short input (3 frames): a person seen in 2 of them still gets a peak.
    const short = scoreAus(video([[face(0, 0)], [face(0, 0.2)], [face(1, 0.1)]]), { smooth: false });
    assert.deepEqual(
      short.peaks.map((p) => p.personId),
      [0],
    );
  });

  test('smoothing averages only consecutive frames of the same person', () => {
    const r = scoreAus(video(gaps.map((g) => [face(0, g)])));
    const au25 = r.frames.map((f) => f.aus.AU25);
    assert.ok(au25[6] > au25[5] && au25[6] > au25[7]);
    assert.ok(au25[4] > 0, 'the opening starts to show one frame early');
    assert.equal(scoreAus([]).peak, null);
  });
});

describe('face features carried to the scored frames', () => {
  test("each frame keeps its face's expression probabilities (EXPRESSION_NAMES order) and descriptor", () => {
    assert.deepEqual([...EXPRESSION_NAMES], [...EXPRESSIONS]);
    const descriptor = Float32Array.from({ length: 128 }, (_, k) => k / 128);
    const expression = { neutral: 0.2, happy: 0.5, surprised: 0.3 };
    const a = scoreAus(video([[face(0, 0, { expression, descriptor })], [face(0, 0.2)]]));
    assert.deepEqual(a.frames[0].expressions, [0.2, 0.5, 0, 0, 0, 0, 0.3]);
    assert.equal(a.frames[0].descriptor, descriptor);
    assert.deepEqual(a.frames[1].expressions, [0.1, 0, 0, 0, 0, 0, 0]);
    assert.equal(a.frames[1].descriptor, undefined);
    const bare = scoreAus(video([[{ ...face(0, 0), expression: undefined }]]));
    assert.equal(bare.frames[0].expressions, undefined);
  });
});
