// Done-when check of the EMT issue: the FER caption for single_face.mp4 (labelled joy) names the AUs that are
// measured in its peak frame and are in the happy list. Real video -> real AUs -> AuScored -> EMT record.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { facsCaptioner, offlineEri } from '@emoverse/emt';
import { AU_NAMES, type FrameGeometry, scoreAus } from '@emoverse/facs';
import {
  AuScoredSchema,
  AuVectorSchema,
  auRecordToVector,
  PersonPeakSchema,
  SourceRecordSchema,
  Split,
  Task,
  TimeSpanSchema,
} from '@emoverse/proto';
import { analyzeVideo } from '@emoverse/video';
import { buildRecords } from './records.js';

const shared = process.env.EMOVERSE_SHARED
  ? resolve(process.env.EMOVERSE_SHARED)
  : fileURLToPath(new URL('../../../../shared', import.meta.url));

test('single_face.mp4 labelled joy: the FER caption names the measured AUs of the happy list', async () => {
  const clip = join(shared, 'data', 'faces', 'single_face.mp4');
  const frames: FrameGeometry[] = [];
  for await (const f of analyzeVideo(clip, { fps: 15 }))
    frames.push({ index: f.index, timeS: f.timeS, faces: f.faces });
  const peak = scoreAus(frames).peak;
  assert.ok(peak, 'a face and a peak frame');

  const auScored = create(AuScoredSchema, {
    jobId: 'job-single-face',
    span: create(TimeSpanSchema, { id: 'single_face' }),
    spanCount: 1,
    hasFace: true,
    peak: create(PersonPeakSchema, {
      frameIndex: peak.index,
      timeS: peak.timeS,
      aus: create(AuVectorSchema, { intensity: auRecordToVector(peak.aus) }),
    }),
  });
  const source = create(SourceRecordSchema, {
    id: 'faces/single_face',
    source: 'meld',
    split: Split.TEST,
    conversationId: 'faces/single_face',
    speaker: 'The person',
    text: 'Hi!',
    emotion: 'joy',
    videoPaths: ['faces/single_face.mp4'],
    jobId: 'job-single-face',
    span: create(TimeSpanSchema, { id: 'single_face' }),
    tasks: [Task.FER],
  });
  const table = join(shared, 'data', 'facs', 'au_emotion.json');
  const res = await buildRecords(
    { sources: [source], auScores: [auScored], tasks: [], eriBackend: '', seed: 0 },
    { captioner: facsCaptioner(table), eri: { deterministic: offlineEri(0) }, defaultEri: 'deterministic' },
  );
  assert.equal(res.records.length, 1);
  const fer = res.records[0];

  // Expected from first principles: AUs measured (intensity >= 1) at the peak ∩ the happy list.
  const au = JSON.parse(readFileSync(table, 'utf8'));
  const happy: string[] = au.emotion_aus.happy;
  const expected = AU_NAMES.filter((a) => peak.aus[a] >= 1 && happy.includes(a));
  assert.ok(expected.includes('AU12'), `the smile (AU12) is measured: ${JSON.stringify(peak.aus)}`);
  assert.deepEqual(fer.meta.aus.split(',').sort(), [...expected].sort());
  for (const a of expected)
    assert.ok(fer.response.includes(au.au[a].phrases[0]), `${a} in "${fer.response}"`);
  // AUs outside the happy list never appear, even when measured (AU25, lips parted, is active here).
  assert.ok(!fer.response.includes(au.au.AU25.phrases[0]));
});
