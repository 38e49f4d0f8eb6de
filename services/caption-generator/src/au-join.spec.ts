import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AuScoredSchema, TimeSpanSchema } from '@emoverse/proto';
import { AuJoin } from './au-join.js';

const scored = (jobId: string, spanId: string, spanCount = 2) =>
  create(AuScoredSchema, { jobId, span: create(TimeSpanSchema, { id: spanId }), spanCount, hasFace: true });

test('scores first, then the source: found at once', async () => {
  const j = new AuJoin();
  const a = scored('j1', 'dia1_utt1');
  j.put(a);
  assert.equal(await j.wait('j1', 'dia1_utt1', 10_000), a);
  assert.equal(j.pending, 0);
});

test('the source first: it waits and gets the scores when they come', async () => {
  const j = new AuJoin();
  const waiting = j.wait('j2', 'dia4_utt0', 10_000);
  assert.equal(j.pending, 1);
  const a = scored('j2', 'dia4_utt0');
  j.put(scored('j2', 'other-span'));
  assert.equal(j.pending, 1);
  j.put(a);
  assert.equal(await waiting, a);
  assert.equal(j.pending, 0);
});

test('no scores within the limit: undefined, and nothing left waiting', async () => {
  const j = new AuJoin();
  assert.equal(await j.wait('j3', 's', 20), undefined);
  assert.equal(j.pending, 0);
});

test('a one-span job matches a source without span id; the cache is bounded', async () => {
  const j = new AuJoin(2);
  const one = scored('j4', 'clip', 1);
  j.put(one);
  assert.equal(await j.wait('j4', '', 10_000), one);
  j.put(scored('j5', 'a'));
  j.put(scored('j6', 'a'));
  assert.equal(await j.wait('j4', 'clip', 20), undefined); // evicted
});

test('close releases waiters', async () => {
  const j = new AuJoin();
  const w = j.wait('j7', 's', 60_000);
  j.close();
  assert.equal(await w, undefined);
});
