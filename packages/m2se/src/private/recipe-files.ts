// The recipe files shipped in packages/m2se/recipes and loading a recipe file from disk.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseRecipe, type Recipe, recipeTasks, validateRecipe } from './recipe.js';
import { checkShards } from './shards.js';
import type { TaskCounts } from './stage-plan.js';

/** The paper's recipe and its ablation (Fig. 1), each also as a CPU-sized `-nano` variant. */
export const SHIPPED_RECIPES = [
  'm2se',
  'msa-only',
  'er-only',
  'multitask-1stage',
  'm2se-nano',
  'msa-only-nano',
  'er-only-nano',
  'multitask-1stage-nano',
] as const;
export type ShippedRecipeName = (typeof SHIPPED_RECIPES)[number];

/** Absolute path of a shipped recipe file (src/private and dist/private are both two levels deep). */
export function shippedRecipePath(name: ShippedRecipeName): string {
  if (!(SHIPPED_RECIPES as readonly string[]).includes(name)) {
    throw new Error(`no shipped recipe "${name}" (have: ${SHIPPED_RECIPES.join(', ')})`);
  }
  return fileURLToPath(new URL(`../../recipes/${name}.yaml`, import.meta.url));
}

/**
 * Reads, parses and validates a recipe file (.json is parsed as strict JSON, anything else as YAML).
 * With `listFiles`, also checks that every shard exists (relative to the data root it lists).
 */
export function loadRecipeFile(path: string, options: { listFiles?: () => Iterable<string> } = {}): Recipe {
  const text = readFileSync(path, 'utf8');
  const recipe = parseRecipe(text, { format: path.endsWith('.json') ? 'json' : 'yaml', source: path });
  if (options.listFiles) checkShards(recipe, options.listFiles);
  return recipe;
}

export function loadShippedRecipe(name: ShippedRecipeName): Recipe {
  return loadRecipeFile(shippedRecipePath(name));
}

/**
 * A CI-size version of a recipe (`--smoke`): the same stages, tasks, rates and settings, with each
 * stage's budget (and the pre-training's) set to `samples` and `epochs` epochs, so that a run takes
 * a few steps.
 */
export function smokeRecipe(recipe: Recipe, options: { samples?: number; epochs?: number } = {}): Recipe {
  const samples = options.samples ?? 2 * recipe.batch.size * recipe.batch.gradAccumulation;
  return validateRecipe({
    ...structuredClone(recipe),
    name: `${recipe.name}-smoke`,
    pretraining: recipe.pretraining ? { ...recipe.pretraining, samples, epochs: 1 } : undefined,
    stages: recipe.stages.map((s) => ({ ...s, tasks: { ...s.tasks }, samples, epochs: options.epochs ?? 1 })),
  });
}

/**
 * The recipe's `pretraining` block as a recipe of its own (one stage over all the recipe's tasks,
 * rates in proportion to their example counts, no loss weighting), or undefined when it has none.
 * Train it with every weight trainable and no LoRA, then train the recipe itself on the result.
 */
export function pretrainingRecipe(recipe: Recipe, counts: TaskCounts): Recipe | undefined {
  const p = recipe.pretraining;
  if (!p) return undefined;
  const tasks = recipeTasks(recipe).filter((t) => (counts[t] ?? 0) > 0);
  if (tasks.length === 0) throw new Error(`recipe "${recipe.name}": no examples to pre-train on`);
  const total = tasks.reduce((s, t) => s + (counts[t] ?? 0), 0);
  const rates: Record<string, number> = {};
  let sum = 0;
  tasks.forEach((t, i) => {
    // the last rate takes the rounding rest so that the rates sum to 1 exactly
    rates[t] = i === tasks.length - 1 ? 1 - sum : (counts[t] ?? 0) / total;
    sum += rates[t];
  });
  const { pretraining: _, ...rest } = structuredClone(recipe);
  return validateRecipe({
    ...rest,
    name: `${recipe.name}-pretraining`,
    optimizer: { ...rest.optimizer, lr: p.lr },
    schedule: { warmupRatio: p.warmupRatio, minLrRatio: p.minLrRatio },
    lossWeighting: { mode: 'none' },
    stages: [{ name: 'lm-pretraining', epochs: p.epochs, samples: p.samples, tasks: rates }],
  });
}

/**
 * The recipe without the tasks that have no data here (e.g. FER when no face video was captioned):
 * each stage's remaining rates are scaled up to sum to 1, and a stage left without tasks is dropped.
 * Returns what was dropped so that the caller can say so; throws if no stage is left.
 */
export function restrictToTasks(
  recipe: Recipe,
  available: readonly string[],
): { recipe: Recipe; dropped: { stage: string; task: string; rate: number }[] } {
  const keep = new Set(available);
  const dropped: { stage: string; task: string; rate: number }[] = [];
  const stages = recipe.stages.flatMap((stage) => {
    const entries = Object.entries(stage.tasks) as [string, number][];
    for (const [task, rate] of entries) if (!keep.has(task)) dropped.push({ stage: stage.name, task, rate });
    const kept = entries.filter(([task]) => keep.has(task));
    if (kept.length === 0) return [];
    if (kept.length === entries.length) return [stage];
    const total = kept.reduce((s, [, r]) => s + r, 0);
    let sum = 0;
    const tasks: Record<string, number> = {};
    kept.forEach(([task, rate], i) => {
      // the last rate takes the rounding rest so that the rates sum to 1 exactly
      tasks[task] = i === kept.length - 1 ? 1 - sum : rate / total;
      sum += tasks[task];
    });
    return [{ ...stage, tasks }];
  });
  if (stages.length === 0) {
    throw new Error(
      `recipe "${recipe.name}": none of its tasks has data (have: ${available.join(', ') || 'none'})`,
    );
  }
  if (dropped.length === 0) return { recipe, dropped };
  if (stages[0].samples === 'remaining') stages[0] = { ...stages[0], samples: 'all' };
  return { recipe: validateRecipe({ ...structuredClone(recipe), stages }), dropped };
}
