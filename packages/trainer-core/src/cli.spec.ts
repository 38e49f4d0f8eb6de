// The four experiments of the ablation in --smoke form, end to end: EMT from the shared data,
// emoverse-nano from scratch, LM pre-training + LoRA stages, evaluation through the serving code with
// the baselines of the same run, the seeded table, its chart, the result lines.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRecipeFile, shippedRecipePath } from '@emoverse/m2se';
import { main } from './cli.js';
import { ensureEmt, loadTrainData } from './private/data.js';

const shared = process.env.EMOVERSE_SHARED
  ? resolve(process.env.EMOVERSE_SHARED)
  : resolve(import.meta.dirname, '../../../../shared');
const tmp = mkdtempSync(join(tmpdir(), 'experiments-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const work = join(tmp, 'work');
const results = join(tmp, 'results');

describe('npm run experiment -- --smoke', () => {
  it('runs the four experiments over two seeds, each with its baselines, and writes the seeded table, its chart and the result lines', async () => {
    const lines: string[] = [];
    const code = await main(
      ['all', '--smoke', '--seeds', '2', '--shared', shared, '--work', work, '--results', results],
      (l) => lines.push(l),
    );
    assert.equal(code, 0);
    assert.ok(
      lines.some((l) => /no FER data: left out of stage "multitask-pretraining"/.test(l)),
      'FER is dropped and said so',
    );
    const results_ = lines.filter((l) => l.startsWith('result '));
    assert.equal(results_.length, 8, 'one result line per experiment and seed');
    const num = '\\d+\\.\\d\\d';
    assert.match(
      lines.at(-1)!,
      new RegExp(
        `^result name=m2se er_wf1=${num} er_bow_wf1=${num} er_majority_wf1=${num} acc2=${num} acc2_bow=${num} ecpe_f1=${num} ecpe_selfprev_f1=${num} train_s=\\d+$`,
      ),
    );
    assert.match(results_[0], /^result name=msa-only er_wf1=- er_bow_wf1=- er_majority_wf1=- acc2=\d/);
    const table = readFileSync(join(results, 'ablation-smoke.md'), 'utf8');
    for (const row of [
      'majority class',
      'bag-of-words LR',
      'ECPE: self + previous',
      'msa-only',
      'm2se',
      'paper: EmoVerse-4B',
    ])
      assert.ok(table.includes(`| ${row}`), `table row ${row}`);
    assert.match(table, /Commit `[0-9a-f]+`/);
    assert.match(table, /M2SE (beats|does not beat) single-task training at this scale/);
    assert.equal(readFileSync(join(results, 'ablation-smoke.png')).subarray(1, 4).toString('ascii'), 'PNG');
    for (const n of ['msa-only', 'er-only', 'multitask-1stage', 'm2se']) {
      for (const seed of [42, 43]) {
        const run = JSON.parse(readFileSync(join(results, 'runs', `${n}-seed${seed}-smoke.json`), 'utf8'));
        assert.equal(run.seed, seed);
        assert.ok(run.baselines.length >= 2, `${n}: baselines of the same run`);
        // the recipes with MSA ship MSA's decision offsets, fitted on dev; ER keeps the plain argmax
        if (n !== 'er-only') assert.equal(typeof run.calibration?.labelBias.msa?.negative, 'number', n);
        else assert.equal(run.calibration, undefined);
      }
      const bytes = readFileSync(join(results, `${n}-smoke-loss.png`));
      assert.equal(bytes.subarray(1, 4).toString('ascii'), 'PNG');
      assert.ok(bytes.readUInt32BE(16) >= 400 && bytes.readUInt32BE(20) >= 200, 'IHDR width and height');
      assert.ok(
        existsSync(join(work, 'models', `${n}-nano-smoke-seed42`, 'emoverse.json')),
        `${n}: model saved`,
      );
    }
  });

  it('with --skip-recorded, runs only the seeds results/runs does not hold yet', async () => {
    const lines: string[] = [];
    await main(
      [
        'er-only',
        '--smoke',
        '--seeds',
        '3',
        '--skip-recorded',
        '--shared',
        shared,
        '--work',
        work,
        '--results',
        results,
      ],
      (l) => lines.push(l),
    );
    assert.equal(lines.filter((l) => /skipped$/.test(l)).length, 2, 'seeds 42 and 43 are recorded');
    assert.equal(lines.filter((l) => l.startsWith('result ')).length, 1);
    assert.ok(existsSync(join(results, 'runs', 'er-only-seed44-smoke.json')));
  });

  it('writes a smoke run without --results under the work folder, not into results/', async () => {
    const lines: string[] = [];
    await main(['er-only', '--smoke', '--shared', shared, '--work', work], (l) => lines.push(l));
    assert.ok(existsSync(join(work, 'results', 'ablation-smoke.md')));
  });

  it('stops before training when the test split has no records', async () => {
    const w = join(tmp, 'empty-test');
    cpSync(join(work, 'emt'), join(w, 'emt'), { recursive: true });
    for (const f of readdirSync(join(w, 'emt', 'er')).filter((f) => f.startsWith('test-')))
      writeFileSync(join(w, 'emt', 'er', f), '');
    const lines: string[] = [];
    await assert.rejects(
      main(['er-only', '--smoke', '--shared', shared, '--work', w], (l) => lines.push(l)),
      /no er records in the test split/,
    );
    assert.ok(!lines.some((l) => /step/.test(l)), 'no training step ran');
  });

  it('rejects bad input before any compute', async () => {
    await assert.rejects(main(['msa-alone', '--smoke']), /unknown experiment "msa-alone"/);
    await assert.rejects(main([]), /name an experiment/);
    await assert.rejects(main(['m2se', '--eval-limit', '0']), /--eval-limit needs a positive integer/);
    await assert.rejects(main(['m2se', '--seeds', '1.5']), /--seeds needs a positive integer/);
    await assert.rejects(main(['m2se', '--eval-split', 'train']), /--eval-split is test or dev/);
    await assert.rejects(main(['m2se', '--calibration', 'maybe']), /--calibration is fit, keep or none/);
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
