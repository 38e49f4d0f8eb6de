// Shard paths of a recipe checked against what exists, before any compute. The listing comes from
// the caller (a folder walk, an object-store prefix listing), so this stays a plain function.
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { type Recipe, RecipeError, recipeTasks } from './recipe.js';
import type { TaskName } from './tasks.js';

/** `*` matches within one path segment, `**` across segments, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` also matches zero folders
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function normalise(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\//, '');
}

/** Shard patterns per task; `'*'` holds the patterns of a single mixed list (lines carry their task). */
export function shardPatterns(recipe: Recipe): Partial<Record<TaskName | '*', string[]>> {
  const shards = recipe.data.shards;
  if (Array.isArray(shards)) return { '*': shards };
  const out: Partial<Record<TaskName | '*', string[]>> = {};
  for (const task of recipeTasks(recipe)) out[task] = shards[task];
  return out;
}

/**
 * Expands the recipe's shard patterns against the available files (paths relative to the data root).
 * Returns the sorted matches per task and one problem line per pattern that matches nothing.
 */
export function resolveShards(
  recipe: Recipe,
  files: Iterable<string>,
): { shards: Partial<Record<TaskName | '*', string[]>>; problems: string[] } {
  const available = [...files].map(normalise);
  const set = new Set(available);
  const shards: Partial<Record<TaskName | '*', string[]>> = {};
  const problems: string[] = [];
  for (const [task, patterns] of Object.entries(shardPatterns(recipe)) as [TaskName | '*', string[]][]) {
    const matched = new Set<string>();
    for (const raw of patterns) {
      const pattern = normalise(raw);
      const hits = /[*?]/.test(pattern)
        ? available.filter((f) => globToRegExp(pattern).test(f))
        : set.has(pattern)
          ? [pattern]
          : [];
      if (hits.length === 0) {
        const where = task === '*' ? 'data.shards' : `data.shards.${task}`;
        problems.push(`${where}: missing shard "${raw}" (no such file under the data root)`);
      }
      for (const h of hits) matched.add(h);
    }
    shards[task] = [...matched].sort();
  }
  return { shards, problems };
}

/** Throws RecipeError if any shard is missing; returns the resolved shard lists otherwise. */
export function checkShards(
  recipe: Recipe,
  listFiles: () => Iterable<string>,
): Partial<Record<TaskName | '*', string[]>> {
  const { shards, problems } = resolveShards(recipe, listFiles());
  if (problems.length > 0) throw new RecipeError(problems, `recipe "${recipe.name}"`);
  return shards;
}

/** Lists every file under a folder, as '/'-separated paths relative to it (for checkShards). */
export function listFilesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}
