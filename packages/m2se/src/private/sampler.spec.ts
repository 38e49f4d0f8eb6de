import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Recipe, validateRecipe } from './recipe.js';
import { loadShippedRecipe } from './recipe-files.js';
import { DataIterator, type IteratorState, type MicroBatch, TaskSampler } from './sampler.js';
import { allocateQuotas, planStages } from './stage-plan.js';
import { TASKS, type TaskName } from './tasks.js';

function recipe(overrides: Partial<Record<string, unknown>> = {}): Recipe {
  return validateRecipe({
    name: 'two-stage',
    seed: 7,
    model: { base: 'emoverse-nano' },
    lora: { targets: ['q_proj'] },
    optimizer: { lr: 1e-3 },
    batch: { size: 4, gradAccumulation: 3 },
    data: { shards: ['emt/*.jsonl'] },
    stages: [
      { name: 'pre', samples: 50, tasks: { MSA: 0.4, ER: 0.2, FER: 0.4 } },
      { name: 'reason', samples: 'remaining', tasks: { MSA: 0.04, ER: 0.32, ERI: 0.32, ECPE: 0.32 } },
    ],
    ...overrides,
  });
}

/** Example lists whose items name themselves, so batches can be compared as strings. */
function examples(counts: Partial<Record<TaskName, number>>): Partial<Record<TaskName, string[]>> {
  const out: Partial<Record<TaskName, string[]>> = {};
  for (const [t, n] of Object.entries(counts) as [TaskName, number][])
    out[t] = Array.from({ length: n }, (_, i) => `${t}#${i}`);
  return out;
}

const counts = { MSA: 40, ER: 60, FER: 30, ERI: 25, ECPE: 20 };
const ids = (b: MicroBatch<string>) => b.items.map((i) => i.example).join(',');

describe('stage plan', () => {
  it('splits a budget by rates with quotas summing exactly to it', () => {
    const q = allocateQuotas(['MSA', 'ER', 'FER'], { MSA: 0.4, ER: 0.2, FER: 0.4 }, 11);
    assert.deepEqual(q, { MSA: 5, ER: 2, FER: 4 }); // 4.4, 2.2, 4.4: the spare one goes to the first largest remainder
    const q2 = allocateQuotas(['MSA', 'ER'], { MSA: 1 / 3, ER: 2 / 3 }, 3000);
    assert.deepEqual(q2, { MSA: 1000, ER: 2000 });
  });

  it('plans "remaining" from what earlier stages left, with steps from batch and accumulation', () => {
    const [p1, p2] = planStages(recipe(), counts);
    assert.deepEqual(p1.quotas, { MSA: 20, ER: 10, FER: 20 });
    assert.equal(p1.microBatchesPerEpoch, 13); // ceil(50 / 4)
    assert.equal(p1.optimizerStepsPerEpoch, 5); // ceil(13 / 3)
    assert.equal(p1.totalSteps, 10);
    // remaining: MSA 40-20 + ER 60-10 + ERI 25 + ECPE 20 = 115
    assert.equal(p2.samples, 115);
    assert.deepEqual(p2.offsets, { MSA: 20, ER: 10, ERI: 0, ECPE: 0 });
    assert.equal(p2.firstGlobalStep, 10);
  });

  it('rejects a stage task without examples before any compute', () => {
    assert.throws(
      () => planStages(recipe(), { ...counts, ERI: 0 }),
      /stages\[1\] \(reason\): task ERI has no examples/,
    );
  });
});

describe('task sampler', () => {
  it('gives each task exactly its quota in a stage, and mixes tasks across batches', () => {
    const s = new TaskSampler(recipe(), counts);
    const stage1 = s.epochOrder(0, 0);
    const tally = (refs: { task: TaskName }[]) =>
      Object.fromEntries(TASKS.map((t) => [t, refs.filter((r) => r.task === t).length]).filter(([, n]) => n));
    assert.deepEqual(tally(stage1), { MSA: 20, ER: 10, FER: 20 });
    assert.deepEqual(tally(s.epochOrder(1, 0)), s.plans[1].quotas);
    // shuffled: the first 12 items are not all one task
    assert.ok(new Set(stage1.slice(0, 12).map((r) => r.task)).size > 1);
  });

  it('stage 2 takes examples stage 1 did not use (the paper\'s "remaining samples")', () => {
    const s = new TaskSampler(recipe(), counts);
    const used1 = new Set(s.stageDataset(0).map((r) => `${r.task}#${r.index}`));
    const used2 = s.stageDataset(1).map((r) => `${r.task}#${r.index}`);
    const overlap = used2.filter((k) => used1.has(k));
    assert.deepEqual(overlap, []);
  });

  it('repeats a small task in fresh passes, each pass covering every example once', () => {
    const r = recipe({ stages: [{ name: 'only', samples: 25, tasks: { ECPE: 1 } }] });
    const s = new TaskSampler(r, { ECPE: 10 });
    const idx = s.stageDataset(0).map((x) => x.index);
    for (const pass of [idx.slice(0, 10), idx.slice(10, 20)])
      assert.deepEqual(
        [...pass].sort((a, b) => a - b),
        [...Array(10).keys()],
      );
    assert.notDeepEqual(idx.slice(0, 10), idx.slice(10, 20), 'each pass is a new permutation');
  });

  it('each epoch visits the same stage data set in a different order', () => {
    const s = new TaskSampler(recipe(), counts);
    const key = (r: { task: string; index: number }) => `${r.task}#${r.index}`;
    const e0 = s.epochOrder(0, 0).map(key);
    const e1 = s.epochOrder(0, 1).map(key);
    assert.deepEqual([...e0].sort(), [...e1].sort());
    assert.notDeepEqual(e0, e1);
  });

  it('with batch.groupBy task, fills every micro-batch from one task but the last few, and visits the same examples', () => {
    const mixed = new TaskSampler(recipe(), counts);
    const grouped = new TaskSampler(
      recipe({ batch: { size: 4, gradAccumulation: 3, groupBy: 'task' } }),
      counts,
    );
    const key = (r: { task: string; index: number }) => `${r.task}#${r.index}`;
    const order = grouped.epochOrder(0, 0);
    assert.deepEqual(order.map(key).sort(), mixed.epochOrder(0, 0).map(key).sort());
    const batches = Array.from({ length: Math.ceil(order.length / 4) }, (_, b) =>
      order.slice(b * 4, b * 4 + 4),
    );
    const tasks = new Set(order.map((r) => r.task));
    const mixedBatches = batches.filter((b) => new Set(b.map((r) => r.task)).size > 1);
    assert.ok(mixedBatches.length < tasks.size, `${mixedBatches.length} mixed micro-batches`);
    assert.ok(
      batches.slice(0, batches.length - tasks.size).every((b) => new Set(b.map((r) => r.task)).size === 1),
      'only the partial chunks at the end mix tasks',
    );
    assert.notDeepEqual(grouped.epochOrder(0, 1).map(key), order.map(key));
  });

  it('depends on the seed, and only on the seed', () => {
    const a = new TaskSampler(recipe(), counts).epochOrder(0, 0);
    const b = new TaskSampler(recipe(), counts).epochOrder(0, 0);
    const c = new TaskSampler(recipe({ seed: 8 }), counts).epochOrder(0, 0);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

describe('data iterator', () => {
  it('walks stages and epochs with optimizer-step and accumulation bookkeeping', () => {
    const it = new DataIterator(recipe(), examples(counts));
    const batches = [...it];
    const [p1, p2] = it.sampler.plans;
    assert.equal(batches.length, p1.microBatchesPerEpoch * 2 + p2.microBatchesPerEpoch * 2);
    assert.equal(batches.filter((b) => b.endsStep).length, p1.totalSteps + p2.totalSteps);
    const first = batches.slice(0, 13);
    assert.deepEqual(
      first.map((b) => [b.step, b.accumulationIndex, b.accumulationSize, b.endsStep]),
      [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4].map((step, i) => {
        const size = step === 4 ? 1 : 3;
        return [step, i % 3, size, i % 3 === size - 1];
      }),
    );
    assert.equal(
      first[12].items.length,
      2,
      'the last micro-batch of the epoch holds the rest (50 = 12*4 + 2)',
    );
    assert.deepEqual([batches[13].epoch, batches[13].step, batches[13].globalStep], [1, 5, 5]);
    const s2 = batches[26];
    assert.deepEqual([s2.stage, s2.stageName, s2.epoch, s2.step, s2.globalStep], [1, 'reason', 0, 0, 10]);
    assert.ok(it.done);
    assert.equal(it.next(), undefined);
  });

  it('resumes from a serialised state with exactly the same batches', () => {
    const full = [...new DataIterator(recipe(), examples(counts))].map(ids);
    for (const cut of [1, 12, 13, 27, full.length - 1]) {
      const first = new DataIterator(recipe(), examples(counts));
      for (let i = 0; i < cut; i++) first.next();
      const saved: IteratorState = JSON.parse(JSON.stringify(first.state));
      const resumed = new DataIterator(recipe(), examples(counts), saved);
      assert.deepEqual([...resumed].map(ids), full.slice(cut), `resume after ${cut} micro-batches`);
    }
  });

  it('refuses to resume against other data or another seed', () => {
    const it = new DataIterator(recipe(), examples(counts));
    it.next();
    const state = it.state;
    assert.throws(() => new DataIterator(recipe(), examples({ ...counts, ER: 61 }), state), /cannot resume/);
    assert.throws(() => new DataIterator(recipe({ seed: 1 }), examples(counts), state), /cannot resume/);
  });

  it('works on the shipped m2se recipe at paper scale', () => {
    const r = loadShippedRecipe('m2se');
    const big = { MSA: 9000, ER: 9000, FER: 6000, ERI: 9000, ECPE: 7000 };
    const s = new TaskSampler(r, big);
    assert.deepEqual(s.plans[0].quotas, { MSA: 6000, ER: 3000, FER: 6000 });
    assert.equal(s.plans[1].samples, 3000 + 6000 + 9000 + 7000);
    assert.equal(s.epochOrder(1, 1).length, 25000);
  });
});
