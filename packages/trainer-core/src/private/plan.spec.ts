// Runs are rejected before any compute, with every problem named: unknown task, rates not summing
// to 1, a missing shard, a base checkpoint whose shapes do not match its config or the recipe's base.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EmoVerseLM } from '@emoverse/models';
import { planRun } from './plan.js';
import { RunRejected } from './rejected.js';
import { toyRecipe, writeToyEmt } from './toy-emt.fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'trainer-plan-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let emt: string;
let checkpoint: string;
before(() => {
  emt = writeToyEmt(join(tmp, 'emt'));
  checkpoint = join(tmp, 'nano');
  EmoVerseLM.createNano({ corpus: ['a small corpus for a small model'], vocabSize: 300, seed: 1 }).save(
    checkpoint,
  );
});

// biome-ignore lint/suspicious/noExplicitAny: recipes edited as plain JSON
const edit = (f: (r: Record<string, any>) => void) => {
  const r = JSON.parse(toyRecipe());
  f(r);
  return JSON.stringify(r);
};

async function rejected(recipe: string, pattern: RegExp, o: { datasetDir?: string; base?: string } = {}) {
  await assert.rejects(
    planRun({ recipe, format: 'json', datasetDir: o.datasetDir ?? emt, baseCheckpoint: o.base }),
    (err: Error) => {
      assert.ok(err instanceof RunRejected, `${err.name}: ${err.message}`);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('planRun', () => {
  it('plans both phases of a valid recipe', async () => {
    const { plan, examples } = await planRun({ recipe: toyRecipe(), format: 'json', datasetDir: emt });
    assert.equal(plan.recipe.name, 'toy-m2se');
    assert.deepEqual(plan.counts, { MSA: 16, ER: 16, ERI: 16, ECPE: 16 });
    // 8 LM pre-training samples / batch 4; two stages of 8 samples / batch 4
    assert.equal(plan.pretrainingSteps, 2);
    assert.deepEqual(
      plan.stages.map((s) => [s.name, s.totalSteps, s.quotas]),
      [
        ['multitask-pretraining', 2, { MSA: 4, ER: 4 }],
        ['multitask-reasoning-finetuning', 2, { MSA: 2, ER: 2, ERI: 2, ECPE: 2 }],
      ],
    );
    assert.equal(plan.totalSteps, 6);
    assert.equal(examples.ERI?.length, 16);
  });

  it('rejects an unknown task', () =>
    rejected(
      toyRecipe({ stage1: { MSA: 0.5, SA: 0.5 } }),
      /stages\[0\]\.tasks\.SA: unknown task "SA" \(known tasks: MSA, ER, FER, ERI, ECPE\)/,
    ));

  it('rejects sampling rates that do not sum to 1', () =>
    rejected(toyRecipe({ stage1: { MSA: 0.5, ER: 0.4 } }), /sampling rates sum to 0\.9, they must sum to 1/));

  it('rejects a missing shard', async () => {
    await rejected(
      edit((r) => {
        r.data.shards.ER = ['er/train-*.jsonl', 'er/extra-00000.jsonl'];
      }),
      /data\.shards\.ER: missing shard "er\/extra-00000\.jsonl"/,
    );
    await rejected(toyRecipe(), /dataset folder .*nowhere does not exist/, {
      datasetDir: join(tmp, 'nowhere'),
    });
  });

  it('rejects a base checkpoint whose config is not the recipe base', async () => {
    const bad = join(tmp, 'wide');
    EmoVerseLM.load(checkpoint).save(bad);
    const cfg = JSON.parse(readFileSync(join(bad, 'llm', 'config.json'), 'utf8'));
    writeFileSync(
      join(bad, 'llm', 'config.json'),
      JSON.stringify({ ...cfg, hidden_size: 256, head_dim: 64 }),
    );
    await rejected(toyRecipe(), /hidden_size is 256 but model\.base emoverse-nano has 128/, { base: bad });
  });

  it('rejects a base checkpoint whose tensors do not match its config', async () => {
    const bad = join(tmp, 'vocab');
    EmoVerseLM.load(checkpoint).save(bad);
    const cfg = JSON.parse(readFileSync(join(bad, 'llm', 'config.json'), 'utf8'));
    writeFileSync(join(bad, 'llm', 'config.json'), JSON.stringify({ ...cfg, vocab_size: 999 }));
    await rejected(
      toyRecipe(),
      /embed_tokens\.weight has shape \[\d+,128\] but the config implies \[999,128\]/,
      {
        base: bad,
      },
    );
  });

  it('accepts a matching base checkpoint', async () => {
    const { plan } = await planRun({
      recipe: toyRecipe(),
      format: 'json',
      datasetDir: emt,
      baseCheckpoint: checkpoint,
    });
    assert.equal(plan.baseCheckpoint, checkpoint);
  });

  it('rejects a base model it cannot create without a checkpoint', () =>
    rejected(
      edit((r) => {
        r.model.base = 'emoverse-4b';
      }),
      /model\.base: "emoverse-4b" needs a base checkpoint/,
    ));
});
