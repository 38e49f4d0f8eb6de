import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { auCommon, auEmotion, auFrame, ferCaption, loadAuEmotionTable } from './caption.js';
import { zeroAus } from './types.js';

const shared = process.env.EMOVERSE_SHARED ?? resolve(import.meta.dirname, '../../../../../shared');
const table = loadAuEmotionTable(join(shared, 'data/facs/au_emotion.json'));

test('AU_frame is the active AUs, strongest first', () => {
  assert.deepEqual(auFrame({ ...zeroAus(), AU12: 2, AU06: 3, AU25: 0.5 }), ['AU06', 'AU12']);
  assert.deepEqual(auFrame({ ...zeroAus(), AU25: 0.5 }, 0.4), ['AU25']);
});

test('AU_frame and captions use measured AUs only: a strong estimated AU is left out', () => {
  const aus = { ...zeroAus(), AU04: 4.8, AU17: 4.5, AU12: 2, AU06: 1.5 };
  assert.deepEqual(auFrame(aus), ['AU12', 'AU06']);
  assert.deepEqual(auFrame(aus, 1, ['AU04', 'AU12']), ['AU04', 'AU12']);
  // anger's list has AU04 and AU17; with them only estimated, nothing typical of anger stands out.
  assert.deepEqual(ferCaption(aus, table, 'anger').aus, []);
});

test('eq. 3: AU_common(f, e) = AU_frame(f) ∩ AU_emotion(e), written as text', () => {
  const smile = { ...zeroAus(), AU06: 2.1, AU12: 3.2, AU25: 2, AU45: 1.5 };
  assert.deepEqual(auCommon(smile, table, 'happy'), ['AU12', 'AU06']);
  // MELD labels map onto the lists.
  assert.deepEqual(auCommon(smile, table, 'joy'), ['AU12', 'AU06']);
  const c = ferCaption(smile, table, 'joy');
  assert.deepEqual(c.aus, ['AU12', 'AU06']);
  assert.equal(c.text, 'lip corners pulled up, cheeks raised');
  // AU28 (presence only) is dropped from the list.
  assert.deepEqual(auEmotion(table, 'worried'), ['AU20']);
  assert.throws(() => auEmotion(table, 'bored'), /unknown emotion/);
});

test('neutral has no AU list; an emotion whose AUs are absent says so', () => {
  const smile = { ...zeroAus(), AU12: 3 };
  assert.equal(auCommon(smile, table, 'neutral'), null);
  const n = ferCaption(smile, table, 'neutral');
  assert.deepEqual(n.aus, []);
  assert.match(n.text, /no expressive action units/);
  const s = ferCaption(smile, table, 'sadness');
  assert.deepEqual(s.aus, []);
  assert.match(s.text, /no action units typical of sadness/);
});
