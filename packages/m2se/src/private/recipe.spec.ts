import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRecipe, RecipeError, recipeTasks, stageTasks, validateRecipe } from './recipe.js';
import {
  loadShippedRecipe,
  pretrainingRecipe,
  restrictToTasks,
  SHIPPED_RECIPES,
  smokeRecipe,
} from './recipe-files.js';

const minimal = {
  name: 'tiny',
  seed: 1,
  model: { base: 'emoverse-nano' },
  lora: { targets: ['q_proj'] },
  optimizer: { lr: 1e-3 },
  batch: { size: 2 },
  data: { shards: { MSA: ['msa.jsonl'], ER: ['er.jsonl'] } },
  stages: [{ name: 's1', samples: 10, tasks: { MSA: 0.5, ER: 0.5 } }],
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RecipeError, `expected RecipeError, got ${err}`);
    return err.problems;
  }
  assert.fail('expected the recipe to be rejected');
}

describe('recipe schema', () => {
  it('parses every shipped recipe', () => {
    for (const name of SHIPPED_RECIPES) {
      const r = loadShippedRecipe(name);
      assert.equal(r.name, name);
      assert.ok(r.stages.length >= 1);
    }
  });

  it('ships the paper settings in m2se.yaml', () => {
    const r = loadShippedRecipe('m2se');
    assert.equal(r.stages.length, 2);
    const [s1, s2] = r.stages;
    assert.deepEqual(stageTasks(s1), ['MSA', 'ER', 'FER']);
    assert.equal(s1.samples, 15000);
    assert.ok(s1.tasks.MSA! > s1.tasks.ER! && s1.tasks.FER! > s1.tasks.ER!, 'MSA and FER above ER');
    assert.deepEqual(stageTasks(s2), ['MSA', 'ER', 'ERI', 'ECPE']);
    assert.equal(s2.samples, 'remaining');
    assert.equal(s2.tasks.ER, s2.tasks.ERI);
    assert.equal(s2.tasks.ER, s2.tasks.ECPE);
    assert.ok(s2.tasks.MSA! < 0.1 && s2.tasks.MSA! < s2.tasks.ER!);
    for (const s of r.stages) assert.equal(s.epochs, 2);
    assert.deepEqual([r.lora.r, r.lora.alpha, r.lora.dropout], [8, 32, 0.05]);
    assert.equal(r.optimizer.lr, 1e-5);
    assert.ok((r.schedule.warmupRatio ?? 0) > 0);
    assert.deepEqual(r.model.frozen, ['vision']);
    assert.deepEqual(r.model.trainable, ['projector']);
    assert.deepEqual(recipeTasks(r), ['MSA', 'ER', 'FER', 'ERI', 'ECPE']);
  });

  it('ships single-task ablations and a one-stage multitask ablation', () => {
    assert.deepEqual(recipeTasks(loadShippedRecipe('msa-only')), ['MSA']);
    assert.deepEqual(recipeTasks(loadShippedRecipe('er-only')), ['ER']);
    const one = loadShippedRecipe('multitask-1stage');
    assert.equal(one.stages.length, 1);
    assert.deepEqual(recipeTasks(one), ['MSA', 'ER', 'FER', 'ERI', 'ECPE']);
    assert.equal(loadShippedRecipe('m2se-nano').model.base, 'emoverse-nano');
  });

  it('fills defaults: epochs 2, LoRA 8/32/0.05, no loss weighting, accumulation 1', () => {
    const r = validateRecipe(minimal);
    assert.equal(r.stages[0].epochs, 2);
    assert.deepEqual([r.lora.r, r.lora.alpha, r.lora.dropout], [8, 32, 0.05]);
    assert.deepEqual(r.lossWeighting, { mode: 'none' });
    assert.equal(r.batch.gradAccumulation, 1);
    assert.equal(r.schedule.minLrRatio, 0);
  });

  it('rejects an unknown task with a message naming it and the known tasks', () => {
    const problems = problemsOf(() =>
      validateRecipe({ ...minimal, stages: [{ name: 's', samples: 4, tasks: { SA: 0.5, ER: 0.5 } }] }),
    );
    assert.equal(problems.length, 1);
    assert.match(
      problems[0],
      /^stages\[0\]\.tasks\.SA: unknown task "SA" \(known tasks: MSA, ER, FER, ERI, ECPE\)/,
    );
  });

  it('rejects sampling rates that do not sum to 1, within a tolerance', () => {
    const problems = problemsOf(() =>
      validateRecipe({ ...minimal, stages: [{ name: 's', samples: 4, tasks: { MSA: 0.5, ER: 0.4 } }] }),
    );
    assert.deepEqual(problems, [
      'stages[0].tasks: sampling rates sum to 0.9, they must sum to 1 (tolerance 0.000001)',
    ]);
    // 0.1 + 0.2 + 0.7 is not exactly 1 in floating point, but within the tolerance
    const ok = validateRecipe({
      ...minimal,
      data: { shards: ['all.jsonl'] },
      stages: [{ name: 's', samples: 4, tasks: { MSA: 0.1, ER: 0.2, FER: 0.7 } }],
    });
    assert.equal(ok.stages[0].tasks.FER, 0.7);
  });

  it('rejects zero or negative rates, unknown keys, duplicate stages and a first stage of "remaining"', () => {
    const problems = problemsOf(() =>
      validateRecipe({
        ...minimal,
        epoch: 3,
        stages: [
          { name: 's', samples: 'remaining', tasks: { MSA: 1.5, ER: -0.5 } },
          { name: 's', samples: 4, tasks: { MSA: 1 } },
        ],
      }),
    );
    const text = problems.join('\n');
    assert.match(text, /stages\[0\]\.tasks\.MSA: sampling rate 1\.5 must be in \(0, 1\]/);
    assert.match(text, /stages\[0\]\.tasks\.ER: sampling rate -0\.5 must be in \(0, 1\]/);
    assert.match(text, /\(root\): Unrecognized key: "epoch"/);
    // the object-level checks run once the fields themselves are valid
    const later = problemsOf(() =>
      validateRecipe({
        ...minimal,
        stages: [
          { name: 's', samples: 'remaining', tasks: { MSA: 1 } },
          { name: 's', samples: 4, tasks: { MSA: 1 } },
        ],
      }),
    ).join('\n');
    assert.match(later, /stages\[0\]\.samples: "remaining" needs an earlier stage/);
    assert.match(later, /stages\[1\]\.name: duplicate stage name "s"/);
  });

  it('rejects a stage task without shards and an unknown task under data.shards', () => {
    const problems = problemsOf(() =>
      validateRecipe({
        ...minimal,
        data: { shards: { MSA: ['m.jsonl'], XX: ['x.jsonl'] } },
      }),
    );
    assert.deepEqual(problems.sort(), [
      'data.shards.XX: unknown task "XX" (known tasks: MSA, ER, FER, ERI, ECPE)',
      'stages[0].tasks.ER: task ER has no shards under data.shards',
    ]);
  });

  it('rejects bad numbers: LoRA r 0, dropout 1, warm-up given twice', () => {
    const text = problemsOf(() =>
      validateRecipe({
        ...minimal,
        lora: { r: 0, dropout: 1, targets: [] },
        schedule: { warmupRatio: 0.1, warmupSteps: 3 },
      }),
    ).join('\n');
    assert.match(text, /lora\.r:/);
    assert.match(text, /lora\.dropout:/);
    assert.match(text, /lora\.targets:/);
    assert.match(text, /schedule: give warmupRatio or warmupSteps, not both/);
  });

  it('reads YAML and JSON text and reports syntax errors as RecipeError', () => {
    const fromJson = parseRecipe(JSON.stringify(minimal), { format: 'json' });
    const fromYaml = parseRecipe(JSON.stringify(minimal)); // JSON is YAML
    assert.deepEqual(fromJson, fromYaml);
    const loss = parseRecipe(
      `${JSON.stringify({ ...minimal, lossWeighting: { mode: 'dwa' } })}`,
    ).lossWeighting;
    assert.deepEqual(loss, { mode: 'dwa', temperature: 2, period: 10 });
    const problems = problemsOf(() => parseRecipe('{"name": ', { format: 'json', source: 'x.json' }));
    assert.match(problems[0], /^not valid json:/);
    assert.match(problemsOf(() => parseRecipe('a: [1, 2'))[0], /^not valid YAML:/);
  });

  it('rejects an unknown loss weighting mode', () => {
    const text = problemsOf(() => validateRecipe({ ...minimal, lossWeighting: { mode: 'gradnorm' } })).join();
    assert.match(text, /lossWeighting\.mode/);
  });

  it('makes a smoke version with the same stages and small budgets', () => {
    const r = loadShippedRecipe('m2se');
    const smoke = smokeRecipe(r, { samples: 8 });
    assert.equal(smoke.name, 'm2se-smoke');
    assert.deepEqual(
      smoke.stages.map((s) => [s.name, s.samples, s.epochs, s.tasks]),
      r.stages.map((s) => [s.name, 8, 1, s.tasks]),
    );
    assert.equal(r.stages[0].samples, 15000, 'the original is untouched');
    const nano = smokeRecipe(loadShippedRecipe('m2se-nano'), { samples: 8 });
    assert.deepEqual([nano.pretraining?.samples, nano.pretraining?.epochs], [8, 1]);
  });

  it('turns the pretraining block into a one-stage recipe over all tasks, rates by size', () => {
    const r = loadShippedRecipe('m2se-nano');
    assert.equal(
      pretrainingRecipe(loadShippedRecipe('m2se'), {}),
      undefined,
      'the paper recipe starts from a pretrained model',
    );
    const pre = pretrainingRecipe(r, { MSA: 100, ER: 300, FER: 50, ERI: 25, ECPE: 25 })!;
    assert.equal(pre.name, 'm2se-nano-pretraining');
    assert.equal(pre.stages.length, 1);
    const want = { MSA: 0.2, ER: 0.6, FER: 0.1, ERI: 0.05, ECPE: 0.05 };
    assert.deepEqual(Object.keys(pre.stages[0].tasks), Object.keys(want));
    for (const [t, v] of Object.entries(want))
      assert.ok(Math.abs(pre.stages[0].tasks[t as 'MSA']! - v) < 1e-12, t);
    assert.equal(pre.stages[0].samples, 'all', 'the nano recipes pre-train over all their train text');
    assert.equal(pre.optimizer.lr, r.pretraining!.lr);
    assert.deepEqual(pre.lossWeighting, { mode: 'none' });
    assert.equal(pre.pretraining, undefined);
    const only = pretrainingRecipe(r, { MSA: 3, ER: 0, FER: 0 })!;
    assert.deepEqual(only.stages[0].tasks, { MSA: 1 });
  });

  it('drops tasks without data, rescaling the rates of what is left', () => {
    const r = loadShippedRecipe('m2se');
    const { recipe, dropped } = restrictToTasks(r, ['MSA', 'ER', 'ERI', 'ECPE']);
    assert.deepEqual(dropped, [{ stage: 'multitask-pretraining', task: 'FER', rate: 0.4 }]);
    const s1 = recipe.stages[0].tasks;
    assert.deepEqual(Object.keys(s1), ['MSA', 'ER']);
    assert.ok(Math.abs(s1.MSA! - 2 / 3) < 1e-12 && Math.abs(s1.ER! - 1 / 3) < 1e-12);
    assert.deepEqual(recipe.stages[1].tasks, r.stages[1].tasks);
    assert.equal(restrictToTasks(r, ['MSA', 'ER', 'FER', 'ERI', 'ECPE']).recipe, r, 'nothing to drop');
    const erOnly = restrictToTasks(r, ['ER']).recipe;
    assert.deepEqual(
      erOnly.stages.map((s) => s.tasks),
      [{ ER: 1 }, { ER: 1 }],
    );
    assert.throws(() => restrictToTasks(loadShippedRecipe('msa-only'), ['ER']), /none of its tasks has data/);
  });
});
