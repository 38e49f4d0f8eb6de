import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildEmt } from './build.js';
import { facsCaptioner, loadPeakAus } from './fer.js';
import { sharedDir } from './testdata.js';

const table = () => join(sharedDir(), 'data', 'facs', 'au_emotion.json');

test('the facs captioner writes AU_common(f, e) of the peak frame as phrases', () => {
  const fer = facsCaptioner(table());
  // AU04 is active but not in the happy list; AU14 is in the list but below threshold.
  const joy = fer.auCommon({ AU06: 2.0, AU12: 3.1, AU04: 2.5, AU14: 0.4 }, 'joy');
  assert.deepEqual(joy.aus, ['AU12', 'AU06']);
  assert.equal(joy.caption, 'lip corners pulled up, cheeks raised');
  const neutral = fer.auCommon({ AU06: 2.0 }, 'neutral');
  assert.deepEqual(neutral.aus, []);
  assert.match(neutral.caption, /no expressive action units/);
});

test('peak AUs from JSONL feed FER records; clips without a face are dropped as no_face', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emt-fer-'));
  try {
    const file = join(dir, 'aus.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ video: 'MELD/dev/dia1_utt1.mp4', aus: { AU06: 1.8, AU12: 2.6, AU25: 1.2 } }), // "You’re a genius!" joy
        JSON.stringify({ video: 'MELD/dev/dia1_utt2.mp4', aus: null }),
        '{"video": 3}',
      ].join('\n'),
    );
    const parsed = loadPeakAus(file);
    assert.equal(parsed.peakAus.size, 2);
    assert.deepEqual(
      parsed.issues.map((i) => i.line),
      [3],
    );
    const r = await buildEmt({
      sharedDir: sharedDir(),
      outDir: join(dir, 'emt'),
      tasks: ['fer'],
      peakAusFile: file,
      ecf2: false,
      onWarning: () => {},
    });
    assert.deepEqual(r.manifest.counts, { fer: { dev: 1 } });
    assert.equal(r.quality.droppedByTask.fer?.no_face, 13708 - 1);
    assert.ok(
      r.quality.drops.some((d) => d.sourceId === 'meld/dev/dia1_utt2' && d.detail === 'no face in the clip'),
    );
    assert.deepEqual(
      r.issues.map((i) => [i.line, i.reason.slice(0, 12)]),
      [[3, 'needs "video']],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
