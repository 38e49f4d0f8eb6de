// npm run release:model -- <experiment> [--seed N] [--results DIR] [--out DIR]
// Stores the model folder of a recorded full-test experiment run as the project's release artifact
// (default: release/models/<recipe>/), with RELEASE.json: recipe, seed, commit, result line, SHA-256s.
// The demo serves it (packages/demo) after checking every digest.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultLine } from './cli.js';
import type { RunRecord } from './private/experiment.js';
import { releaseOf, writeRelease } from './private/release.js';

export function main(argv: string[], log: (line: string) => void = console.log): number {
  const [name, ...rest] = argv;
  if (!name || name.startsWith('--')) throw new Error('name the experiment whose run to release, e.g. m2se');
  const flags: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    if (!['--seed', '--results', '--out'].includes(rest[i]) || rest[i + 1] === undefined)
      throw new Error(`unknown or incomplete option ${rest[i]}`);
    flags[rest[i].slice(2)] = rest[i + 1];
  }
  const repo = fileURLToPath(new URL('../../..', import.meta.url));
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const results = resolve(cwd, flags.results ?? join(repo, 'results'));
  const seed = flags.seed ?? '42';
  const runPath = join(results, 'runs', `${name}-seed${seed}.json`);
  if (!existsSync(runPath))
    throw new Error(`${runPath}: no recorded run; run npm run experiment -- ${name} first`);
  const run = JSON.parse(readFileSync(runPath, 'utf8')) as RunRecord;
  const out = resolve(cwd, flags.out ?? join(repo, 'release', 'models', `${run.name}-nano`));
  const release = writeRelease(run.modelDir, out, releaseOf(run, resultLine(run), run.commit ?? 'unknown'));
  log(`released ${run.modelDir} -> ${out} (${Object.keys(release.files).length} files)`);
  log(release.result);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (err) {
    console.error(`release:model: ${(err as Error).message}`);
    process.exit(1);
  }
}
