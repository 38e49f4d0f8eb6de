// The recipe file: everything a training run needs to know, validated before any compute.
// A recipe is YAML or JSON; unknown keys are errors (a typo such as `epoch:` must not silently fall
// back to a default), and every problem is reported at once with its path, e.g.
//   stages[0].tasks: unknown task "SA" (known tasks: MSA, ER, FER, ERI, ECPE)
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { canonicalTaskOrder, isTaskName, TASKS, type TaskName } from './tasks.js';

/** How far the sampling rates of a stage may be from summing to 1 (rates are written as decimals). */
export const RATE_SUM_TOLERANCE = 1e-6;

const knownTasks = `known tasks: ${TASKS.join(', ')}`;

/** task -> sampling rate; checked here so that the message names the stage's path. */
const taskRates = z.record(z.string(), z.number()).superRefine((rates, ctx) => {
  const entries = Object.entries(rates);
  if (entries.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'a stage needs at least one task' });
    return;
  }
  let sum = 0;
  for (const [task, rate] of entries) {
    if (!isTaskName(task)) {
      ctx.addIssue({ code: 'custom', path: [task], message: `unknown task "${task}" (${knownTasks})` });
    }
    if (!(rate > 0 && rate <= 1)) {
      ctx.addIssue({ code: 'custom', path: [task], message: `sampling rate ${rate} must be in (0, 1]` });
    }
    sum += rate;
  }
  if (Math.abs(sum - 1) > RATE_SUM_TOLERANCE) {
    ctx.addIssue({
      code: 'custom',
      message: `sampling rates sum to ${+sum.toFixed(9)}, they must sum to 1 (tolerance ${RATE_SUM_TOLERANCE})`,
    });
  }
});

const StageSchema = z.strictObject({
  name: z.string().min(1),
  /** Passes over the stage's sampled data set. */
  epochs: z.number().int().positive().default(2),
  /**
   * Sample budget: examples in the stage's data set (each epoch visits all of them once).
   * `remaining`: every example of the stage's tasks not taken by earlier stages (the paper's stage 2);
   * `all`: as many samples as the stage's tasks have examples together.
   */
  samples: z.union([z.number().int().positive(), z.literal('remaining'), z.literal('all')]),
  /** task -> sampling rate: the share of the stage's samples drawn from that task. */
  tasks: taskRates,
});

const LoraSchema = z.strictObject({
  /**
   * 'adapters' (the paper: LoRA on a frozen base) or 'full' (every base weight trained in the stages;
   * a departure for small from-scratch models, whose weak base LoRA cannot reshape enough).
   */
  mode: z.enum(['adapters', 'full']).default('adapters'),
  r: z.number().int().positive().default(8),
  alpha: z.number().positive().default(32),
  dropout: z.number().min(0).lt(1).default(0.05),
  /** Module names that get adapters, e.g. q_proj, v_proj. */
  targets: z.array(z.string().min(1)).min(1),
});

const OptimizerSchema = z.strictObject({
  name: z.literal('adamw').default('adamw'),
  /** Peak learning rate, reached at the end of warm-up. */
  lr: z.number().positive(),
  weightDecay: z.number().min(0).default(0),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  eps: z.number().positive().default(1e-8),
  maxGradNorm: z.number().positive().optional(),
});

const ScheduleSchema = z
  .strictObject({
    /** Warm-up length as a share of the stage's optimizer steps, or as a step count. */
    warmupRatio: z.number().min(0).lt(1).optional(),
    warmupSteps: z.number().int().min(0).optional(),
    /** Cosine decay ends at lr * minLrRatio (the floor). */
    minLrRatio: z.number().min(0).max(1).default(0),
  })
  .superRefine((s, ctx) => {
    if (s.warmupRatio !== undefined && s.warmupSteps !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'give warmupRatio or warmupSteps, not both' });
    }
  });

const BatchSchema = z.strictObject({
  /** Examples per micro-batch (one forward/backward). */
  size: z.number().int().positive(),
  /** Micro-batches whose gradients are summed into one optimizer step. */
  gradAccumulation: z.number().int().positive().default(1),
  maxSeqLen: z.number().int().positive().default(512),
  /**
   * 'none': a micro-batch mixes tasks at their rates; 'task': every micro-batch holds one task, so
   * long and short prompts do not pad each other (same examples, same rates per stage).
   */
  groupBy: z.enum(['none', 'task']).default('none'),
});

const LossWeightingSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('none') }),
  /** Dynamic Weight Averaging (Liu et al. 2019) over per-task loss averages of `period` optimizer steps. */
  z.strictObject({
    mode: z.literal('dwa'),
    temperature: z.number().positive().default(2),
    period: z.number().int().positive().default(10),
  }),
  /** Uncertainty weighting (Kendall et al. 2018), closed form over an EMA of each task's loss. */
  z.strictObject({ mode: z.literal('uncertainty'), ema: z.number().min(0).lt(1).default(0.9) }),
]);

/**
 * Optional language-model pre-training before the stages, for a model trained from scratch
 * (emoverse-nano): every weight trained, no LoRA, on the text (prompt and answer) of all the
 * recipe's tasks in proportion to their sizes, without task weighting.
 */
const PretrainingSchema = z.strictObject({
  epochs: z.number().int().positive().default(1),
  samples: z.union([z.number().int().positive(), z.literal('all')]).default('all'),
  lr: z.number().positive(),
  warmupRatio: z.number().min(0).lt(1).default(0.05),
  minLrRatio: z.number().min(0).max(1).default(0.1),
  /**
   * `conversation`: a conversation's records (ERI's growing histories, ECPE's targets over one
   * dialogue) are read once, as the record with the longest query; the others repeat its text.
   * `record` (the default): every record.
   */
  distinct: z.enum(['record', 'conversation']).default('record'),
});

const ModelSchema = z.strictObject({
  /** Model config name, e.g. emoverse-nano. */
  base: z.string().min(1),
  /** Base checkpoint to start from (object-store key or path); absent: the model's own init. */
  checkpoint: z.string().min(1).optional(),
  /** Parameter groups kept fixed (the paper freezes the ViT) and trained in full (the projector). */
  frozen: z.array(z.string().min(1)).default(['vision']),
  trainable: z.array(z.string().min(1)).default(['projector']),
  /**
   * For a model made here from scratch (emoverse-nano): its decoder's shape and the size of the BPE
   * vocabulary learnt from the training text. Absent: the preset's 4 x 128 and 2,048 tokens.
   */
  nano: z
    .strictObject({
      hidden: z.number().int().positive().multipleOf(32),
      layers: z.number().int().positive(),
      /** BPE vocabulary size */
      vocab: z.number().int().min(300).default(2048),
    })
    .optional(),
});

const shardList = z.array(z.string().min(1)).min(1);
const DataSchema = z.strictObject({
  /** Folder (or object-store prefix) the shard paths are relative to; the caller may override it. */
  root: z.string().optional(),
  /**
   * EMT JSONL shards (`*` and `**` globs allowed): either one list whose lines carry their `task`,
   * or a list per task.
   */
  shards: z.union([shardList, z.record(z.string(), shardList)]),
});

export const RecipeSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    seed: z.number().int().min(0),
    model: ModelSchema,
    lora: LoraSchema,
    optimizer: OptimizerSchema,
    schedule: ScheduleSchema.default({ minLrRatio: 0 }),
    batch: BatchSchema,
    lossWeighting: LossWeightingSchema.default({ mode: 'none' }),
    data: DataSchema,
    pretraining: PretrainingSchema.optional(),
    stages: z.array(StageSchema).min(1),
    /**
     * Classification tasks whose label offsets are fitted on the dev split after training and shipped
     * in the model folder (calibration.json, applied by the gateway). Default: none (plain argmax).
     */
    calibrate: z.array(z.enum(['MSA', 'ER'])).default([]),
  })
  .superRefine((r, ctx) => {
    const names = new Set<string>();
    r.stages.forEach((stage, i) => {
      if (names.has(stage.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, 'name'],
          message: `duplicate stage name "${stage.name}"`,
        });
      }
      names.add(stage.name);
      if (i === 0 && stage.samples === 'remaining') {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, 'samples'],
          message: '"remaining" needs an earlier stage; the first stage needs a number',
        });
      }
    });
    const shards = r.data.shards;
    if (!Array.isArray(shards)) {
      for (const task of Object.keys(shards)) {
        if (!isTaskName(task)) {
          ctx.addIssue({
            code: 'custom',
            path: ['data', 'shards', task],
            message: `unknown task "${task}" (${knownTasks})`,
          });
        }
      }
      r.stages.forEach((stage, i) => {
        for (const task of Object.keys(stage.tasks)) {
          if (isTaskName(task) && !(task in shards)) {
            ctx.addIssue({
              code: 'custom',
              path: ['stages', i, 'tasks', task],
              message: `task ${task} has no shards under data.shards`,
            });
          }
        }
      });
    }
  });

type RawRecipe = z.output<typeof RecipeSchema>;
export type Stage = Omit<RawRecipe['stages'][number], 'tasks'> & { tasks: Partial<Record<TaskName, number>> };
export type Recipe = Omit<RawRecipe, 'stages'> & { stages: Stage[] };
export type RecipeInput = z.input<typeof RecipeSchema>;
export type LossWeightingConfig = Recipe['lossWeighting'];
export type LoraConfig = Recipe['lora'];
export type PretrainingConfig = NonNullable<Recipe['pretraining']>;

/** Every problem found in a recipe, one line each ("path: message"). */
export class RecipeError extends Error {
  constructor(
    readonly problems: string[],
    source = 'recipe',
  ) {
    super(`invalid ${source}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'RecipeError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

/** Validates an already-parsed object; throws RecipeError listing every problem. */
export function validateRecipe(input: unknown, source?: string): Recipe {
  const result = RecipeSchema.safeParse(input);
  if (!result.success) {
    throw new RecipeError(
      result.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
      source,
    );
  }
  return result.data as Recipe;
}

/** Parses recipe text (YAML, of which JSON is a subset; or strict JSON when format is 'json'). */
export function parseRecipe(
  text: string,
  options: { format?: 'yaml' | 'json'; source?: string } = {},
): Recipe {
  let data: unknown;
  try {
    data = options.format === 'json' ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new RecipeError(
      [`not valid ${options.format ?? 'YAML'}: ${(err as Error).message}`],
      options.source,
    );
  }
  return validateRecipe(data, options.source);
}

/** The tasks a stage samples from, in canonical order. */
export function stageTasks(stage: Stage): TaskName[] {
  return canonicalTaskOrder(Object.keys(stage.tasks) as TaskName[]);
}

/** All tasks any stage of the recipe uses, in canonical order. */
export function recipeTasks(recipe: Recipe): TaskName[] {
  return canonicalTaskOrder(recipe.stages.flatMap(stageTasks));
}
