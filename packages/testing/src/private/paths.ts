import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root: the nearest folder above this package whose package.json declares workspaces. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 20; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && 'workspaces' in JSON.parse(readFileSync(pkg, 'utf8'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error('could not find the EmoVerse repository root (a package.json with "workspaces")');
}

/**
 * The read-only shared data folder: $EMOVERSE_SHARED, else `<repo>/../shared`.
 * Throws with both candidates named when it is absent, so a test fails with the reason, not an ENOENT.
 */
export function sharedDir(): string {
  const fromEnv = process.env.EMOVERSE_SHARED;
  const dir = fromEnv ? resolve(fromEnv) : resolve(repoRoot(), '..', 'shared');
  if (!existsSync(dir)) {
    throw new Error(
      `shared data folder not found at ${dir} (${fromEnv ? 'from EMOVERSE_SHARED' : 'default <repo>/../shared'}); ` +
        'set EMOVERSE_SHARED to the folder that holds data/ and fixtures/',
    );
  }
  return dir;
}
