// A recipe's training data from an EMT dataset folder, checked before any compute: every shard the
// recipe names must exist. With `dropMissingTasks`, tasks without shards here (FER when no face was
// captioned) are left out and their stage's rates rescaled, and the caller is told so.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildEmt } from '@emoverse/emt';
import {
  checkShards,
  type EmtExample,
  listFilesUnder,
  type Recipe,
  RecipeError,
  readEmtShards,
  recipeTasks,
  resolveShards,
  restrictToTasks,
  type TaskName,
} from '@emoverse/m2se';

export interface TrainData {
  recipe: Recipe;
  examples: Partial<Record<TaskName, EmtExample[]>>;
  /** Tasks (per stage) left out for lack of data. */
  dropped: { stage: string; task: string; rate: number }[];
}

export async function loadTrainData(
  recipe: Recipe,
  emtDir: string,
  options: { dropMissingTasks?: boolean } = {},
): Promise<TrainData> {
  const files = listFilesUnder(emtDir);
  let dropped: TrainData['dropped'] = [];
  if (options.dropMissingTasks) {
    const { shards } = resolveShards(recipe, files);
    const present = recipeTasks(recipe).filter(
      (t) => (shards[t]?.length ?? 0) > 0 || (shards['*']?.length ?? 0) > 0,
    );
    ({ recipe, dropped } = restrictToTasks(recipe, present));
  }
  const shards = checkShards(recipe, () => files);
  const examples = await readEmtShards(emtDir, shards, { split: 'train' });
  const empty = recipeTasks(recipe).filter((t) => !examples[t]?.length);
  if (empty.length > 0) {
    throw new RecipeError(
      empty.map((t) => `task ${t}: its shards hold no train records`),
      `recipe "${recipe.name}"`,
    );
  }
  return { recipe, examples, dropped };
}

/** Builds EMT into `<workDir>/emt` unless it is there already (same seed, same bytes). */
export async function ensureEmt(
  sharedDir: string,
  workDir: string,
  log?: (line: string) => void,
): Promise<string> {
  const dir = join(workDir, 'emt');
  if (!existsSync(join(sharedDir, 'data', 'meld'))) {
    throw new Error(
      `no MELD data under ${sharedDir}/data/meld: give the shared folder (--shared or EMOVERSE_SHARED)`,
    );
  }
  if (!existsSync(join(dir, 'manifest.json'))) {
    log?.(`building EMT from ${sharedDir} ...`);
    const r = await buildEmt({ sharedDir, outDir: dir, seed: 0 });
    log?.(`EMT: ${r.manifest.total} records`);
    if (r.manifest.total === 0) throw new Error(`EMT built from ${sharedDir} is empty`);
  }
  return dir;
}
