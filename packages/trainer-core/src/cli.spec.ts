// The four experiments of the ablation in --smoke form, end to end: EMT from the shared data,
// emoverse-nano from scratch, LM pre-training + LoRA stages, evaluation, table, PNG.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRecipeFile, parseResultsTable, shippedRecipePath } from '@emoverse/m2se';
import { main } from './cli.js';
import { loadTrainData } from './private/data.js';
import { ensureEmt } from './private/experiment.js';

const shared = process.env.EMOVERSE_SHARED
  ? resolve(process.env.EMOVERSE_SHARED)
  : resolve(import.meta.dirname, '../../../../shared');
const tmp = mkdtempSync(join(tmpdir(), 'experiments-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const work = join(tmp, 'work');
const results = join(tmp, 'results');

describe('npm run experiment -- --smoke', () => {
  it('runs the four experiments and writes their rows, the baselines and a loss PNG each', async () => {
    const lines: string[] = [];
    const code = await main(
      ['all', '--smoke', '--shared', shared, '--work', work, '--results', results],
      (l) => lines.push(l),
    );
    assert.equal(code, 0);
    assert.ok(
      lines.some((l) => /no FER data: left out of stage "multitask-pretraining"/.test(l)),
      'FER is dropped and said so',
    );
    const rows = parseResultsTable(readFileSync(join(results, 'ablation-smoke.md'), 'utf8'));
    const byName = new Map(rows.map((r) => [r.name, r]));
    assert.deepEqual(
      rows.map((r) => r.name),
      ['majority class', 'msa-only', 'er-only', 'multitask-1stage', 'm2se', 'paper: EmoVerse-4B (M2SE)'],
    );
    assert.ok(
      byName.get('msa-only')?.acc2NegNonNeg !== undefined && byName.get('msa-only')?.meldAcc === undefined,
    );
    assert.ok(
      byName.get('er-only')?.meldWf1 !== undefined && byName.get('er-only')?.acc2NegPos === undefined,
    );
    for (const n of ['multitask-1stage', 'm2se']) {
      const r = byName.get(n)!;
      for (const k of ['meldAcc', 'meldWf1', 'acc2NegNonNeg', 'acc2NegPos', 'ecpeF1'] as const) {
        assert.ok(r[k] !== undefined && r[k]! >= 0 && r[k]! <= 1, `${n} ${k}`);
      }
    }
    for (const n of ['msa-only', 'er-only', 'multitask-1stage', 'm2se']) {
      const png = join(results, `${n}-smoke-loss.png`);
      const bytes = readFileSync(png);
      assert.equal(bytes.subarray(1, 4).toString('ascii'), 'PNG');
      assert.ok(bytes.readUInt32BE(16) >= 400 && bytes.readUInt32BE(20) >= 200, 'IHDR width and height');
      assert.ok(existsSync(join(work, 'models', `${n}-nano-smoke`, 'emoverse.json')), `${n}: model saved`);
    }
  });

  it('rejects bad input before any compute', async () => {
    await assert.rejects(main(['msa-alone', '--smoke']), /unknown experiment "msa-alone"/);
    await assert.rejects(main([]), /name an experiment/);
    await assert.rejects(main(['m2se', '--eval-limit', '0']), /--eval-limit needs a positive integer/);
    await assert.rejects(
      main(['m2se', '--smoke', '--shared', join(tmp, 'nowhere'), '--work', join(tmp, 'w2')]),
      /no MELD data under/,
    );
  });

  it('without dropMissingTasks, a missing shard fails with its name', async () => {
    const emt = await ensureEmt(shared, work);
    const recipe = loadRecipeFile(shippedRecipePath('m2se-nano'));
    await assert.rejects(
      loadTrainData(recipe, emt),
      /data\.shards\.FER: missing shard "fer\/train-\*\.jsonl"/,
    );
  });
});
