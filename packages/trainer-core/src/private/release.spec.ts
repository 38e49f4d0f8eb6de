// Release artifacts: written with their digests, and refused when a file was changed or lost.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RELEASE_FILE, verifyRelease, writeRelease } from './release.js';

const tmp = mkdtempSync(join(tmpdir(), 'release-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function modelFolder(): string {
  const dir = join(tmp, 'model');
  mkdirSync(join(dir, 'llm'), { recursive: true });
  writeFileSync(join(dir, 'emoverse.json'), '{"format":"emoverse-lm/1"}');
  writeFileSync(join(dir, 'llm', 'model.safetensors'), Buffer.from([1, 2, 3]));
  writeFileSync(join(dir, 'calibration.json'), '{}');
  writeFileSync(join(dir, 'notes.txt'), 'not a model file');
  return dir;
}

const meta = {
  recipe: 'm2se-nano',
  seed: 42,
  commit: 'abc1234',
  command: 'npm run experiment -- m2se',
  result: 'result name=m2se',
};

describe('release artifacts', () => {
  it('copies the model files only, with a SHA-256 for each, and verifies them', () => {
    const out = join(tmp, 'release', 'm2se-nano');
    const release = writeRelease(modelFolder(), out, meta);
    assert.deepEqual(Object.keys(release.files).sort(), [
      'calibration.json',
      'emoverse.json',
      'llm/model.safetensors',
    ]);
    assert.equal(verifyRelease(out).commit, 'abc1234');
  });

  it('refuses a release whose file changed or is missing, naming the file', () => {
    const out = join(tmp, 'release', 'tampered');
    writeRelease(modelFolder(), out, meta);
    writeFileSync(join(out, 'llm', 'model.safetensors'), Buffer.from([1, 2, 4]));
    assert.throws(() => verifyRelease(out), /llm\/model\.safetensors does not match its SHA-256/);
    writeRelease(modelFolder(), out, meta);
    rmSync(join(out, 'calibration.json'));
    assert.throws(() => verifyRelease(out), /calibration\.json is missing/);
    rmSync(join(out, RELEASE_FILE));
    assert.throws(() => verifyRelease(out), /no RELEASE\.json/);
  });

  it('refuses a folder that is not a saved model', () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    assert.throws(() => writeRelease(empty, join(tmp, 'release', 'x'), meta), /no emoverse\.json/);
  });
});
