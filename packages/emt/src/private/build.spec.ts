// The real text-level build from ../shared: counts per task and split, validity, no test leak, determinism.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BuildResult, buildEmt } from './build.js';
import { recordErrors } from './schema.js';
import { readRecords } from './shards.js';
import { sharedDir } from './testdata.js';
import type { EmtRecord } from './types.js';

let dir: string;
let built: BuildResult;
const all: EmtRecord[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emt-build-'));
  const mosei = join(dir, 'mosei.csv');
  writeFileSync(
    mosei,
    'segment_id,text,score,split\nv1_0,great movie,2.4,train\nv1_1,dull,-1,train\nv2_0,fine,0.0,test\nv3_0,bad row,9,test\n',
  );
  built = await buildEmt({
    sharedDir: sharedDir(),
    outDir: join(dir, 'emt'),
    seed: 7,
    moseiFiles: [mosei],
    onWarning: () => {},
  });
  for await (const r of readRecords(join(dir, 'emt'))) all.push(r);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('counts per task and split', () => {
  assert.deepEqual(built.manifest.counts, {
    // MELD sentiment (train/dev minus duplicate utterances) + 2 MOSEI train + 1 MOSEI test
    msa: { train: 9921, dev: 1099, test: 2611 },
    // MELD emotion; test keeps all 2,610 utterances
    er: { train: 9923, dev: 1099, test: 2610 },
    // MELD non-neutral utterances (test: 2610 - 1256 neutral)
    eri: { train: 5246, dev: 632, test: 1354 },
    // one per non-neutral ECF utterance: ECF 1.0 train 5,577 minus the 8 of conversation 544 (test leak);
    // test = ECF 1.0 test 1,445 + ECF 2.0 test 1,821
    ecpe: { train: 5569, dev: 668, test: 3266 },
  });
  assert.equal(all.length, built.manifest.total);
  assert.equal(new Set(all.map((r) => r.id)).size, all.length, 'record ids are unique');
  assert.deepEqual(built.quality.dropped, { duplicate: 196, test_leak: 8 });
  // The out-of-range MOSEI row is reported with file and line; the build went on.
  assert.deepEqual(
    built.issues.map((i) => [i.line, i.reason]),
    [[5, 'score "9" is not a number in [-3, 3]']],
  );
});

test('every record validates against the schema', () => {
  const bad = all.map((r) => [r.id, recordErrors(r)]).filter(([, e]) => e !== null);
  assert.deepEqual(bad, []);
});

test('no test scene appears in train or dev', () => {
  const scenes = (r: EmtRecord) => r.meta.scenes.split(',');
  const testScenes = new Set(all.filter((r) => r.split === 'test').flatMap(scenes));
  const leaks = all.filter((r) => r.split !== 'test' && scenes(r).some((s) => testScenes.has(s)));
  assert.deepEqual(
    leaks.map((r) => r.id),
    [],
  );
  // and the test sets are the sources' test sets
  assert.ok(
    all
      .filter((r) => r.source === 'meld' && r.split === 'test')
      .every((r) => r.sourceId.startsWith('meld/test/')),
  );
  assert.ok(all.filter((r) => r.source === 'ecf2').every((r) => r.split === 'test'));
});

test('ECPE records over all ECF test conversations carry every test pair', () => {
  const pairs = all
    .filter((r) => r.task === 'ecpe' && r.split === 'test' && r.source === 'ecf1')
    .reduce((n, r) => n + (r.meta.pairs ? r.meta.pairs.split(';').length : 0), 0);
  assert.equal(pairs, 1873);
});

test('the same seed rebuilds byte-identical shards and manifest', async () => {
  const again = await buildEmt({
    sharedDir: sharedDir(),
    outDir: join(dir, 'emt2'),
    seed: 7,
    moseiFiles: [join(dir, 'mosei.csv')],
    onWarning: () => {},
  });
  const m1 = readFileSync(join(dir, 'emt', 'manifest.json'), 'utf8');
  const m2 = readFileSync(join(dir, 'emt2', 'manifest.json'), 'utf8');
  assert.equal(m1.replaceAll(dir, ''), m2.replaceAll(dir, ''));
  assert.deepEqual(
    again.manifest.shards.map((s) => s.sha256),
    built.manifest.shards.map((s) => s.sha256),
  );
});
