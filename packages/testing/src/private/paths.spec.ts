import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, sharedDir } from './paths.js';
import { freePort } from './ports.js';

test('repoRoot finds the workspace root and sharedDir honours EMOVERSE_SHARED', () => {
  assert.ok(existsSync(join(repoRoot(), 'turbo.json')));
  const saved = process.env.EMOVERSE_SHARED;
  try {
    process.env.EMOVERSE_SHARED = '/definitely/not/here';
    assert.throws(
      () => sharedDir(),
      /shared data folder not found at \/definitely\/not\/here \(from EMOVERSE_SHARED\)/,
    );
    process.env.EMOVERSE_SHARED = repoRoot();
    assert.equal(sharedDir(), repoRoot());
  } finally {
    if (saved === undefined) delete process.env.EMOVERSE_SHARED;
    else process.env.EMOVERSE_SHARED = saved;
  }
});

test('freePort gives usable ports', async () => {
  const a = await freePort();
  const b = await freePort();
  assert.ok(a > 0 && b > 0);
});
