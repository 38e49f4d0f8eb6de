import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { VideoError } from './errors.js';
import { extractVideo, type SpanResult } from './extract.js';

const shared = process.env.EMOVERSE_SHARED ?? resolve(import.meta.dirname, '../../../../../shared');
const SINGLE = join(shared, 'data/faces/single_face.mp4');

test('spans: frames with faces and JPEGs; one person id across spans; a bad span fails alone', async () => {
  const { info, spans } = await extractVideo(
    SINGLE,
    [
      { startS: 0, endS: 0.5, id: 'a' },
      { startS: 1, endS: 1, id: 'empty' },
      { startS: 1.5, endS: 2, id: 'b' },
    ],
    { fps: 6 },
  );
  assert.equal(info.width, 640);
  const results: SpanResult[] = [];
  for await (const r of spans) results.push(r);
  assert.deepEqual(
    results.map((r) => [r.span.id, r.frames.length, r.error?.code]),
    [
      ['a', 3, undefined],
      ['empty', 0, 'EMPTY_SPAN'],
      ['b', 3, undefined],
    ],
  );
  const ids = new Set(results.flatMap((r) => r.frames.flatMap((f) => f.faces.map((x) => x.personId))));
  assert.deepEqual([...ids], [0]);
  const f = results[2].frames[0];
  assert.ok(Math.abs(f.timeS - 1.5) < 1e-9);
  assert.equal(f.jpeg[0], 0xff);
});

test('maxFrames lowers the sampling rate of a long span', async () => {
  const { spans } = await extractVideo(SINGLE, [], { maxFrames: 4 });
  const results: SpanResult[] = [];
  for await (const r of spans) results.push(r);
  const [r] = results;
  assert.equal(r.frames.length, 4);
  assert.ok(r.fps < 2, `fps ${r.fps}`);
});

test('an unreadable video fails before any span', async () => {
  await assert.rejects(
    extractVideo('/nonexistent.mp4', []),
    (e: unknown) => e instanceof VideoError && e.code === 'NOT_FOUND',
  );
});
