import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RecipeError, validateRecipe } from './recipe.js';
import { loadRecipeFile, shippedRecipePath } from './recipe-files.js';
import { checkShards, globToRegExp, listFilesUnder, resolveShards } from './shards.js';

const base = {
  name: 'tiny',
  seed: 1,
  model: { base: 'emoverse-nano' },
  lora: { targets: ['q_proj'] },
  optimizer: { lr: 1e-3 },
  batch: { size: 2 },
  stages: [{ name: 's1', samples: 10, tasks: { MSA: 0.5, ER: 0.5 } }],
};

describe('shards', () => {
  it('matches globs within and across folders', () => {
    assert.ok(globToRegExp('emt/train/msa-*.jsonl').test('emt/train/msa-00001.jsonl'));
    assert.ok(!globToRegExp('emt/train/msa-*.jsonl').test('emt/train/x/msa-1.jsonl'));
    assert.ok(globToRegExp('emt/**/msa-?.jsonl').test('emt/a/b/msa-1.jsonl'));
    assert.ok(globToRegExp('emt/**/msa-?.jsonl').test('emt/msa-1.jsonl'));
    assert.ok(!globToRegExp('a.jsonl').test('aXjsonl'), 'dots are literal');
  });

  it('resolves per-task patterns to sorted files and reports each missing one', () => {
    const recipe = validateRecipe({
      ...base,
      data: { shards: { MSA: ['train/msa-*.jsonl'], ER: ['train/er-0.jsonl', 'train/er-9.jsonl'] } },
    });
    const files = ['train/msa-1.jsonl', 'train/msa-0.jsonl', 'train/er-0.jsonl', 'train/fer-0.jsonl'];
    const { shards, problems } = resolveShards(recipe, files);
    assert.deepEqual(shards, { MSA: ['train/msa-0.jsonl', 'train/msa-1.jsonl'], ER: ['train/er-0.jsonl'] });
    assert.deepEqual(problems, [
      'data.shards.ER: missing shard "train/er-9.jsonl" (no such file under the data root)',
    ]);
    assert.throws(
      () => checkShards(recipe, () => files),
      (err: unknown) => err instanceof RecipeError && /missing shard "train\/er-9\.jsonl"/.test(err.message),
    );
  });

  it('reports a glob matching nothing as missing, for a mixed shard list too', () => {
    const recipe = validateRecipe({ ...base, data: { shards: ['emt/*.jsonl'] } });
    assert.deepEqual(resolveShards(recipe, ['other/a.jsonl']).problems, [
      'data.shards: missing shard "emt/*.jsonl" (no such file under the data root)',
    ]);
    assert.deepEqual(
      checkShards(recipe, () => ['emt/b.jsonl', 'emt/a.jsonl']),
      { '*': ['emt/a.jsonl', 'emt/b.jsonl'] },
    );
  });

  it('checks a shipped recipe against a real folder, before any compute', () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2se-shards-'));
    try {
      for (const t of ['msa', 'er', 'fer', 'eri', 'ecpe']) mkdirSync(join(dir, t));
      for (const t of ['msa', 'er', 'fer', 'eri']) writeFileSync(join(dir, `${t}/train-00000.jsonl`), '{}\n');
      writeFileSync(join(dir, 'ecpe/test-00000.jsonl'), '{}\n'); // a test shard is no train shard
      assert.deepEqual(listFilesUnder(dir).length, 5);
      const path = shippedRecipePath('m2se');
      assert.throws(
        () => loadRecipeFile(path, { listFiles: () => listFilesUnder(dir) }),
        /data\.shards\.ECPE: missing shard "ecpe\/train-\*\.jsonl"/,
      );
      writeFileSync(join(dir, 'ecpe/train-00000.jsonl'), '{}\n');
      assert.equal(loadRecipeFile(path, { listFiles: () => listFilesUnder(dir) }).name, 'm2se');
      // msa-only needs only the MSA shards
      assert.equal(
        loadRecipeFile(shippedRecipePath('msa-only'), { listFiles: () => ['msa/train-00001.jsonl'] }).name,
        'msa-only',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
