// A recipe named on the `train` command line: a shipped recipe name (packages/m2se/recipes, e.g.
// m2se-nano), a file path, or `os://<bucket>/<name>` (the service stores each run's recipe text in the
// object store, so a Job on any node reads exactly what StartRun accepted).
import { existsSync, readFileSync } from 'node:fs';
import type { BlobStore } from '@emoverse/bus';
import { SHIPPED_RECIPES, type ShippedRecipeName, shippedRecipePath } from '@emoverse/m2se';
import { RunRejected } from '@emoverse/trainer-core';
import { parseLocation } from './dataset.js';

export interface RecipeText {
  text: string;
  format: 'yaml' | 'json';
  source: string;
}

/** Guesses JSON from the first character (RECIPE_FORMAT_UNSPECIFIED); YAML parses JSON too. */
export function guessFormat(text: string, name = ''): 'yaml' | 'json' {
  return name.endsWith('.json') || /^\s*\{/.test(text) ? 'json' : 'yaml';
}

export async function readRecipe(ref: string, blobs?: BlobStore): Promise<RecipeText> {
  const loc = parseLocation(ref);
  if (loc.kind === 'blob') {
    if (!blobs) throw new RunRejected([`recipe ${ref}: reading the object store needs NATS`]);
    if (!(await blobs.info(loc.ref))) throw new RunRejected([`recipe ${ref} not found in the object store`]);
    const text = new TextDecoder().decode(await blobs.get(loc.ref));
    return { text, format: guessFormat(text, loc.ref.name), source: ref };
  }
  if ((SHIPPED_RECIPES as readonly string[]).includes(ref)) {
    const path = shippedRecipePath(ref as ShippedRecipeName);
    return { text: readFileSync(path, 'utf8'), format: 'yaml', source: path };
  }
  if (!existsSync(ref)) {
    throw new RunRejected([
      `recipe ${ref}: no such file, and not a shipped recipe (${SHIPPED_RECIPES.join(', ')})`,
    ]);
  }
  const text = readFileSync(ref, 'utf8');
  return { text, format: guessFormat(text, ref), source: ref };
}
