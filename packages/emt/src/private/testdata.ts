// Test helper: the shared data folder (EMOVERSE_SHARED, default <repo>/../shared).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function sharedDir(): string {
  return process.env.EMOVERSE_SHARED
    ? resolve(process.env.EMOVERSE_SHARED)
    : resolve(fileURLToPath(new URL('../../../../../shared', import.meta.url)));
}
