// Small EMT-like data and a recipe for the loop's tests (and the kill/resume child process).
import { type Recipe, validateRecipe } from '../recipe.js';
import type { TaskName } from '../tasks.js';
import { BigramEngine, byteTokenizer } from './bigram-engine.js';
import { encodeExample } from './encode.js';
import type { EmtExample } from './examples.js';
import type { TrainOptions } from './loop.js';

const EMOTIONS = ['joy', 'sadness', 'anger', 'neutral', 'surprise'];
const SENTIMENTS = ['positive', 'negative', 'neutral'];

/** Deterministic toy examples per task, shaped like EMT's (query with an instruction, short answer). */
export function toyExamples(n = 24): Partial<Record<TaskName, EmtExample[]>> {
  const make = (task: TaskName, answer: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => ({
      task,
      id: `${task}-${i}`,
      query: `The person says: 'line ${i}'. ${task} please.`,
      response: answer(i),
    }));
  return {
    MSA: make('MSA', (i) => SENTIMENTS[i % 3]),
    ER: make('ER', (i) => EMOTIONS[i % 5]),
    FER: make('FER', (i) => `AU${6 + (i % 3)} shows ${EMOTIONS[i % 5]}`),
    ERI: make('ERI', (i) => `because of line ${i % 4}`),
    ECPE: make('ECPE', (i) => `(${(i % 3) + 1}, ${(i % 2) + 1})`),
  };
}

export function toyRecipe(
  lossWeighting: Record<string, unknown> = { mode: 'dwa', temperature: 2, period: 2 },
): Recipe {
  return validateRecipe({
    name: 'toy-m2se',
    seed: 3,
    model: { base: 'bigram' },
    lora: { targets: ['q_proj'] },
    optimizer: { lr: 0.3 },
    schedule: { warmupSteps: 2, minLrRatio: 0.1 },
    batch: { size: 3, gradAccumulation: 2, maxSeqLen: 64 },
    lossWeighting,
    data: { shards: ['*.jsonl'] },
    stages: [
      { name: 'multitask-pretraining', epochs: 2, samples: 30, tasks: { MSA: 0.4, ER: 0.2, FER: 0.4 } },
      {
        name: 'multitask-reasoning-finetuning',
        epochs: 2,
        samples: 24,
        tasks: { MSA: 0.04, ER: 0.32, ERI: 0.32, ECPE: 0.32 },
      },
    ],
  });
}

export function toyTrainOptions(recipe = toyRecipe()): Omit<TrainOptions, 'store'> {
  return {
    recipe,
    examples: toyExamples(),
    engine: new BigramEngine({ vocabSize: 256, seed: recipe.seed }),
    encode: (ex) => encodeExample(byteTokenizer, ex, { maxSeqLen: recipe.batch.maxSeqLen }),
    padId: 0,
  };
}
