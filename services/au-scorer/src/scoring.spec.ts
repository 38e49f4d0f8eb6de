// scoreSpan on the faces of a real clip (single_face.mp4 through @emoverse/video): the AuScored event
// has its peak, and the same faces turned into profile in every frame give NO_FACE with the reason "pose".
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { FrameGeometry } from '@emoverse/facs';
import { sharedDir } from '@emoverse/testing';
import { analyzeVideo } from '@emoverse/video';
import { scoreSpan } from './scoring.js';

const ctx = { jobId: 'pose', spanIndex: 0, spanCount: 1 };
const frames: FrameGeometry[] = [];

before(async () => {
  for await (const f of analyzeVideo(join(sharedDir(), 'data/faces/single_face.mp4'), { fps: 5 })) {
    frames.push({ index: f.index, timeS: f.timeS, faces: f.faces });
  }
});

/** The same faces with the head turned by `yawDeg` (what the pose estimator reads for a profile). */
const turned = (yawDeg: number) =>
  frames.map((f) => ({
    ...f,
    faces: f.faces.map((face) => ({ ...face, pose: { ...face.pose, yaw: (yawDeg * Math.PI) / 180 } })),
  }));

describe('scoreSpan', () => {
  it('gives a peak for the frontal clip, and NO_FACE with the reason "pose" when every face is in profile', () => {
    assert.ok(frames.length >= 10 && frames.every((f) => f.faces.length === 1));
    const frontal = scoreSpan(ctx, frames);
    assert.equal(frontal.hasFace, true);
    assert.equal(frontal.error, undefined);

    for (const yaw of [70, -70]) {
      const profile = scoreSpan(ctx, turned(yaw));
      assert.equal(profile.hasFace, false);
      assert.equal(profile.peak, undefined);
      assert.equal(profile.personPeaks.length, 0);
      assert.equal(profile.error?.code, 'NO_FACE');
      assert.equal(profile.error.details.reason, 'pose');
      assert.match(profile.error.message, /turned too far from the camera/);
      // The faces were found: each row is there, left out of peak selection for its pose.
      assert.equal(profile.faces.length, frames.length);
      assert.ok(profile.faces.every((f) => !f.usable && f.excludedReason === 'pose'));
    }
  });

  it('says no_face when no frame has a face', () => {
    const empty = scoreSpan(
      ctx,
      frames.map((f) => ({ ...f, faces: [] })),
    );
    assert.equal(empty.error?.code, 'NO_FACE');
    assert.equal(empty.error.details.reason, 'no_face');
    assert.equal(empty.error.message, `no face found in ${frames.length} frames`);
  });
});
