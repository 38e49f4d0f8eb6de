// Small EMT datasets and recipes for tests of training runs (here and in the trainer service): a folder in
// packages/emt's layout (manifest.json, <task>/train-00000.jsonl) with deterministic toy records, and a
// recipe that trains emoverse-nano for a handful of steps.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const EMOTIONS = ['Joy.', 'Sadness.', 'Anger.', 'Neutral.', 'Surprise.'];
const SENTIMENTS = ['Positive.', 'Negative.', 'Neutral.'];

const answers: Record<string, (i: number) => string> = {
  msa: (i) => SENTIMENTS[i % 3],
  er: (i) => EMOTIONS[i % 5],
  eri: (i) => `${EMOTIONS[i % 5]} Because of line ${i % 4}.`,
  ecpe: (i) => `${(i % 3) + 1}_joy,${(i % 2) + 1}`,
};

/** Writes a toy EMT folder with `n` train records per task; returns its path. */
export function writeToyEmt(dir: string, n = 16, tasks = ['msa', 'er', 'eri', 'ecpe']): string {
  const shards: { task: string; split: string; path: string; records: number; sha256: string }[] = [];
  for (const task of tasks) {
    mkdirSync(join(dir, task), { recursive: true });
    const lines = Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        id: `${task}-${i}`,
        task,
        split: 'train',
        query: `The speaker says: "line ${i} about ${task}". What is the ${task}?`,
        response: answers[task](i),
      }),
    );
    const path = `${task}/train-00000.jsonl`;
    writeFileSync(join(dir, path), `${lines.join('\n')}\n`);
    shards.push({ task, split: 'train', path, records: n, sha256: '' });
  }
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      format: 'emoverse-emt/1',
      seed: 0,
      shardSize: n,
      counts: {},
      total: n * tasks.length,
      shards,
    }),
  );
  return dir;
}

/** A two-stage recipe over the toy tasks: 2 LM pre-training steps, then 2 + 2 LoRA steps. */
export function toyRecipe(overrides: { name?: string; stage1?: Record<string, number> } = {}): string {
  return JSON.stringify({
    name: overrides.name ?? 'toy-m2se',
    seed: 5,
    model: { base: 'emoverse-nano' },
    lora: { r: 4, alpha: 16, dropout: 0.05, targets: ['q_proj', 'v_proj'] },
    optimizer: { lr: 2e-3 },
    schedule: { warmupSteps: 1 },
    batch: { size: 4, gradAccumulation: 1, maxSeqLen: 64 },
    lossWeighting: { mode: 'dwa', temperature: 2, period: 1 },
    data: {
      shards: {
        MSA: ['msa/train-*.jsonl'],
        ER: ['er/train-*.jsonl'],
        ERI: ['eri/train-*.jsonl'],
        ECPE: ['ecpe/train-*.jsonl'],
      },
    },
    pretraining: { epochs: 1, samples: 8, lr: 5e-3 },
    stages: [
      {
        name: 'multitask-pretraining',
        epochs: 1,
        samples: 8,
        tasks: overrides.stage1 ?? { MSA: 0.5, ER: 0.5 },
      },
      {
        name: 'multitask-reasoning-finetuning',
        epochs: 1,
        samples: 8,
        tasks: { MSA: 0.25, ER: 0.25, ERI: 0.25, ECPE: 0.25 },
      },
    ],
  });
}
