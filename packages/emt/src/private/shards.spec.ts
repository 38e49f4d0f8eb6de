import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readManifest, readRecords, writeEmt } from './shards.js';
import type { EmtRecord } from './types.js';

const rec = (i: number, split: 'train' | 'test' = 'train'): EmtRecord => ({
  id: `er/meld/${split}/dia${i}_utt0`,
  task: 'er',
  split,
  source: 'meld',
  query: `q${i}`,
  response: 'Joy.',
  sourceId: `meld/${split}/dia${i}_utt0`,
  meta: { conversation: `meld/${split}/dia${i}` },
});

test('shards per task and split, counts in the manifest, records read back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emt-shards-'));
  try {
    const out = join(dir, 'emt');
    const records = [...Array.from({ length: 7 }, (_, i) => rec(i)), rec(100, 'test')];
    const m = await writeEmt(out, records, { seed: 3, shardSize: 3 });
    assert.deepEqual(m.counts, { er: { train: 7, test: 1 } });
    assert.deepEqual(
      m.shards.map((s) => [s.path, s.records]),
      [
        ['er/train-00000.jsonl', 3],
        ['er/train-00001.jsonl', 3],
        ['er/train-00002.jsonl', 1],
        ['er/test-00000.jsonl', 1],
      ],
    );
    assert.equal((await readManifest(out)).total, 8);
    const back: EmtRecord[] = [];
    for await (const r of readRecords(out, { split: 'train' })) back.push(r);
    assert.deepEqual(
      back.map((r) => r.id).sort(),
      records
        .slice(0, 7)
        .map((r) => r.id)
        .sort(),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same seed gives the same bytes whatever the input order; another seed another order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emt-shards-'));
  try {
    const records = Array.from({ length: 50 }, (_, i) => rec(i));
    await writeEmt(join(dir, 'a'), records, { seed: 1 });
    await writeEmt(join(dir, 'b'), [...records].reverse(), { seed: 1 });
    await writeEmt(join(dir, 'c'), records, { seed: 2 });
    const file = (d: string) => readFileSync(join(dir, d, 'er', 'train-00000.jsonl'), 'utf8');
    assert.equal(file('a'), file('b'));
    assert.notEqual(file('a'), file('c'));
    assert.equal(
      readFileSync(join(dir, 'a', 'manifest.json'), 'utf8'),
      readFileSync(join(dir, 'b', 'manifest.json'), 'utf8'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed write leaves the previous dataset in place and no temp folder behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emt-shards-'));
  try {
    const out = join(dir, 'emt');
    await writeEmt(out, [rec(1)], { seed: 0 });
    const before = readFileSync(join(out, 'manifest.json'), 'utf8');
    // A record JSON.stringify cannot write (BigInt) makes the second build fail half-way.
    const bad = { ...rec(2), meta: { conversation: 'x', n: 1n as unknown as string } };
    await assert.rejects(writeEmt(out, [rec(3), bad], { seed: 0 }), /BigInt/);
    assert.equal(readFileSync(join(out, 'manifest.json'), 'utf8'), before);
    assert.deepEqual(readdirSync(dir), ['emt']);
    // A successful rebuild replaces it whole (no stale shards).
    writeFileSync(join(out, 'er', 'stale.jsonl'), '');
    await writeEmt(out, [rec(4)], { seed: 0 });
    assert.equal(existsSync(join(out, 'er', 'stale.jsonl')), false);
    assert.deepEqual(readdirSync(dir), ['emt']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
