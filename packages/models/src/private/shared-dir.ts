// Where the read-only shared folder is: $EMOVERSE_SHARED, else ../shared next to the repo root.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function sharedDirForTests(): string {
  return (
    process.env.EMOVERSE_SHARED ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared')
  );
}
