// The whole video stage on real media: decode → letterbox → detect → landmarks/mesh → people.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { type AnalyzedFrame, type AnalyzeOptions, analyzeVideo } from './analyze.js';

const shared = process.env.EMOVERSE_SHARED ?? resolve(import.meta.dirname, '../../../../../shared');
const media = (p: string) => join(shared, 'data', p);
const tmp = mkdtempSync(join(tmpdir(), 'emoverse-analyze-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function analyze(path: string, opts: AnalyzeOptions = {}): Promise<AnalyzedFrame[]> {
  const out: AnalyzedFrame[] = [];
  for await (const f of analyzeVideo(path, opts)) out.push(f);
  return out;
}

const ffmpeg = (...args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
const people = (frames: AnalyzedFrame[]) => new Set(frames.flatMap((f) => f.faces.map((x) => x.personId)));

describe('analyzeVideo', () => {
  test('single_face.mp4: one person in every frame, 68 landmarks and a mesh inside the box', async () => {
    const frames = await analyze(media('faces/single_face.mp4'));
    assert.equal(frames.length, 72);
    assert.ok(frames.every((f) => f.faces.length === 1));
    assert.deepEqual([...people(frames)], [0]);
    const face = frames[0].faces[0];
    assert.equal(face.landmarks.length, 68);
    assert.ok(face.mesh.length >= 468);
    const [x, y, w, h] = face.box;
    const nose = face.landmarks[30];
    assert.ok(nose.x > x && nose.x < x + w && nose.y > y && nose.y < y + h);
    assert.ok(Math.abs(face.pose.yaw) < 0.5);
    const probs = Object.values(face.expression);
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-3);
  });

  test('descriptors: every face of every frame gets its own 128-d descriptor; person ids do not change', async () => {
    const path = media('openface/samples/multi_face.avi');
    const opts = { startS: 0, endS: 1, fps: 5 };
    const plain = await analyze(path, opts);
    const described = await analyze(path, { ...opts, descriptors: true });
    assert.ok(plain.every((f) => f.faces.every((x) => x.descriptor === undefined)));
    const faces = described.flatMap((f) => f.faces);
    assert.ok(faces.length >= 12);
    assert.ok(faces.every((x) => x.descriptor?.length === 128 && x.descriptor.every(Number.isFinite)));
    assert.deepEqual(
      described.map((f) => f.faces.map((x) => x.personId)),
      plain.map((f) => f.faces.map((x) => x.personId)),
    );
    // Descriptors are per frame: the same person's change a little from frame to frame.
    const first = described[0].faces[0];
    const later = described[3].faces.find((x) => x.personId === first.personId)!;
    assert.notDeepEqual(later.descriptor, first.descriptor);
  });

  test('a face that leaves for longer than the overlap window comes back with the same id', async () => {
    const clip = join(tmp, 'leave-return.mp4');
    // Black out single_face.mp4 from 0.6 s to 2.0 s: the person is gone for 1.4 s (> maxGapS = 1 s).
    ffmpeg(
      '-i',
      media('faces/single_face.mp4'),
      '-an',
      '-vf',
      "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='between(t,0.6,2.0)'",
      '-c:v',
      'mpeg4',
      '-q:v',
      '3',
      clip,
    );
    const frames = await analyze(clip, { fps: 10 });
    const gap = frames.filter((f) => f.timeS > 0.7 && f.timeS < 1.9);
    assert.ok(gap.length > 0 && gap.every((f) => f.faces.length === 0));
    const after = frames.filter((f) => f.timeS > 2.05);
    assert.ok(after.length > 0 && after.every((f) => f.faces.length === 1));
    assert.deepEqual([...people(frames)], [0]);
  });

  test('face_noface.mov: frames without a face are kept, with no faces', async () => {
    const frames = await analyze(media('faces/face_noface.mov'), { fps: 4 });
    assert.ok(frames.some((f) => f.faces.length === 1));
    assert.ok(frames.some((f) => f.faces.length === 0));
    assert.deepEqual([...people(frames)], [0]);
  });

  test('multi_face.avi: three people, each with a track of their own', async () => {
    const frames = await analyze(media('openface/samples/multi_face.avi'), { startS: 0, endS: 3, fps: 5 });
    assert.equal(frames.length, 15);
    const ids = people(frames);
    assert.equal(ids.size, 3);
    for (const id of ids) {
      const seen = frames.filter((f) => f.faces.some((x) => x.personId === id)).length;
      assert.ok(seen >= 12, `person ${id} seen in ${seen} frames`);
    }
    // No frame holds the same person twice.
    for (const f of frames) assert.equal(new Set(f.faces.map((x) => x.personId)).size, f.faces.length);
  });

  test('two clips side by side (hstack, 1280×360): left and right person keep their ids', async () => {
    const clip = join(tmp, 'side-by-side.mp4');
    ffmpeg(
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
    );
    const frames = await analyze(clip);
    assert.ok(frames.length >= 20);
    assert.equal(people(frames).size, 2);
    for (const id of people(frames)) {
      const xs = frames.flatMap((f) =>
        f.faces.filter((x) => x.personId === id).map((x) => x.box[0] + x.box[2] / 2),
      );
      // Each id stays on one side of the seam.
      assert.ok(xs.every((x) => x < 640) || xs.every((x) => x >= 640), `person ${id} crosses sides`);
    }
  });

  test('a video with no face and a still with five faces', async () => {
    const clip = join(tmp, 'noface.mp4');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=5:duration=1', '-c:v', 'mpeg4', clip);
    const frames = await analyze(clip);
    assert.equal(frames.length, 5);
    assert.ok(frames.every((f) => f.faces.length === 0));
    const [group] = await analyze(media('faces/multi_face.jpg'));
    assert.equal(group.faces.length, 5);
    assert.equal(people([group]).size, 5);
  });
});
