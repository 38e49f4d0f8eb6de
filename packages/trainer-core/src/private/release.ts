// A model folder an experiment trained, stored by the project as a release artifact (release/models/<name>/):
// the served files, plus RELEASE.json recording the recipe, seed, commit, the run's result line and each
// file's SHA-256, so that whoever serves it (the demo) can check that it is the artifact it claims to be.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { MODEL_FILES } from '@emoverse/models';
import type { RunRecord } from './experiment.js';

export const RELEASE_FILE = 'RELEASE.json';

export interface Release {
  format: 'emoverse-release/1';
  /** The recipe (shipped name) and seed the model was trained with. */
  recipe: string;
  seed: number;
  /** The commit the training ran at, as the run recorded it or as given. */
  commit: string;
  /** The command that reproduces it. */
  command: string;
  /** The run's closing line (`result name=… er_wf1=… …`), on the full test splits. */
  result: string;
  /** Path in the folder → SHA-256 (hex). */
  files: Record<string, string>;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Copies the served files of `modelDir` into `releaseDir` (replacing what was there, through a
 * temporary folder and a rename) with their RELEASE.json.
 */
export function writeRelease(
  modelDir: string,
  releaseDir: string,
  meta: Omit<Release, 'format' | 'files'>,
): Release {
  const tmp = `${releaseDir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const files: Record<string, string> = {};
  for (const f of MODEL_FILES) {
    const from = join(modelDir, f);
    if (!existsSync(from)) continue;
    mkdirSync(dirname(join(tmp, f)), { recursive: true });
    copyFileSync(from, join(tmp, f));
    files[f] = sha256(from);
  }
  if (!files['emoverse.json']) throw new Error(`${modelDir}: no emoverse.json, not a saved model folder`);
  const release: Release = { format: 'emoverse-release/1', ...meta, files };
  writeFileSync(join(tmp, RELEASE_FILE), `${JSON.stringify(release, null, 2)}\n`);
  rmSync(releaseDir, { recursive: true, force: true });
  mkdirSync(dirname(releaseDir), { recursive: true });
  renameSync(tmp, releaseDir);
  return release;
}

/**
 * Reads a release folder and checks every file against its recorded SHA-256: throws naming the first
 * file that is missing or differs.
 */
export function verifyRelease(releaseDir: string): Release {
  const path = join(releaseDir, RELEASE_FILE);
  if (!existsSync(path)) throw new Error(`${releaseDir}: no ${RELEASE_FILE}`);
  const release = JSON.parse(readFileSync(path, 'utf8')) as Release;
  if (release.format !== 'emoverse-release/1') throw new Error(`${path}: not an emoverse release`);
  for (const [f, digest] of Object.entries(release.files)) {
    const p = join(releaseDir, f);
    if (!existsSync(p)) throw new Error(`${releaseDir}: ${f} is missing`);
    if (sha256(p) !== digest)
      throw new Error(`${releaseDir}: ${f} does not match its SHA-256 in ${RELEASE_FILE}`);
  }
  return release;
}

/** The metadata of a release made from a recorded full-test run. */
export function releaseOf(
  run: RunRecord,
  resultLine: string,
  commit: string,
): Omit<Release, 'format' | 'files'> {
  if (run.smoke || run.limited || run.split !== 'test')
    throw new Error(`run ${run.name} seed ${run.seed} is not a full test-split run: not a release`);
  return {
    recipe: `${run.name}-nano`,
    seed: run.seed,
    commit,
    command: `npm run experiment -- ${run.name}${run.seed === 42 ? '' : ` (seed ${run.seed})`}`,
    result: resultLine,
  };
}
