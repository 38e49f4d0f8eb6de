// T_v from scored frames: which frames (the peak person's usable ones, in order), the layout of each
// frame's features, float32 equality between in-process and wire values, and the refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AU_NAMES } from '@emoverse/facs';
import { FACE_FEATURE_DIM, FACE_FEATURES, visualTokensFromFrames } from '@emoverse/models';
import { clipVisualTokens, faceFeatureFrames, type ScoredFace } from './visual-tokens.js';

const aus = (v: number) => Object.fromEntries(AU_NAMES.map((a, i) => [a, v + i / 100]));
const face = (index: number, personId: number, v: number, extra: Partial<ScoredFace> = {}): ScoredFace => ({
  index,
  personId,
  aus: aus(v),
  expressions: [0.1, 0.7, 0.05, 0.05, 0.04, 0.03, 0.03],
  descriptor: Array.from({ length: 128 }, (_, k) => Math.sin(index + k) / 10),
  ...extra,
});

describe('faceFeatureFrames / clipVisualTokens', () => {
  const frames = [
    face(2, 0, 2),
    face(0, 0, 0),
    face(1, 1, 5),
    face(1, 0, 1),
    face(3, 0, 3, { excluded: 'pose' }),
    face(4, 0, 4),
  ];

  it("takes the peak person's usable frames in frame order, in models' face-feature layout", () => {
    const out = faceFeatureFrames({ frames, peak: { personId: 0 } });
    assert.equal(out.length, 4);
    assert.deepEqual(
      out.map((f) => Math.round(f[0] * 5)),
      [0, 1, 2, 4],
    );
    const f = out[1];
    assert.equal(f.length, FACE_FEATURE_DIM);
    assert.equal(f[AU_NAMES.indexOf('AU12')], Math.fround(Math.fround(1 + 8 / 100) / 5));
    assert.equal(f[FACE_FEATURES.aus + 1], Math.fround(0.7));
    assert.equal(f[FACE_FEATURES.aus + FACE_FEATURES.expressions + 5], Math.fround(Math.sin(1 + 5) / 10));
  });

  it('gives the same bits from float64 values as from their float32 copies off the wire', () => {
    const wire = frames.map((f) => ({
      ...f,
      aus: Object.fromEntries(Object.entries(f.aus).map(([k, v]) => [k, Math.fround(v)])),
      expressions: Array.from(Float32Array.from(f.expressions!)),
      descriptor: Array.from(Float32Array.from(f.descriptor!)),
    }));
    assert.deepEqual(
      clipVisualTokens({ frames: wire, peak: { personId: 0 } }, 8),
      clipVisualTokens({ frames, peak: { personId: 0 } }, 8),
    );
  });

  it('T_v is visualTokensFromFrames over the per-frame features', () => {
    const clip = { frames, peak: { personId: 0 } };
    assert.deepEqual(clipVisualTokens(clip, 3), visualTokensFromFrames(faceFeatureFrames(clip), 3));
    assert.equal(clipVisualTokens(clip, 3).length, 3 * FACE_FEATURE_DIM);
  });

  it('refuses a clip without a peak, and frames without expressions or descriptor', () => {
    assert.throws(() => faceFeatureFrames({ frames, peak: null }), /no peak person/);
    assert.throws(
      () => faceFeatureFrames({ frames: [face(0, 0, 1, { expressions: [] })], peak: { personId: 0 } }),
      /frame 0 of person 0 has no expression probabilities or descriptor/,
    );
    assert.throws(
      () => faceFeatureFrames({ frames: [face(0, 0, 1, { descriptor: undefined })], peak: { personId: 0 } }),
      /no expression probabilities or descriptor/,
    );
    assert.throws(
      () => faceFeatureFrames({ frames: [face(0, 0, 1, { excluded: 'pose' })], peak: { personId: 0 } }),
      /person 0 has no usable frame/,
    );
  });
});
