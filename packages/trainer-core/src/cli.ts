// npm run experiment -- <msa-only|er-only|multitask-1stage|m2se|all> [--smoke] [--shared DIR]
//   [--work DIR] [--results DIR] [--eval-limit N]
// Trains emoverse-nano from scratch on CPU with the named recipe of the paper's ablation, evaluates it
// on the MELD / ECF test splits, and writes its row of results/ablation.md and its loss-curve PNG.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPERIMENTS } from '@emoverse/m2se';
import { isExperimentName, runExperiment } from './private/experiment.js';

export async function main(argv: string[], log: (line: string) => void = console.log): Promise<number> {
  const names: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--smoke') flags.smoke = true;
    else if (a.startsWith('--')) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      flags[a.slice(2)] = v;
      i++;
    } else names.push(a);
  }
  const unknown = Object.keys(flags).filter(
    (k) => !['smoke', 'shared', 'work', 'results', 'eval-limit'].includes(k),
  );
  if (unknown.length) throw new Error(`unknown option --${unknown[0]}`);
  const list = names.includes('all') ? [...EXPERIMENTS] : names;
  if (list.length === 0) throw new Error(`name an experiment: ${EXPERIMENTS.join(', ')} or all`);
  for (const n of list)
    if (!isExperimentName(n))
      throw new Error(`unknown experiment "${n}" (have: ${EXPERIMENTS.join(', ')}, all)`);
  const cwd = process.env.INIT_CWD ?? process.cwd();
  // default: <repo>/../shared, as everywhere else in the project
  const repo = fileURLToPath(new URL('../../..', import.meta.url));
  const sharedDir = flags.shared
    ? resolve(cwd, flags.shared as string)
    : resolve(process.env.EMOVERSE_SHARED ?? join(repo, '..', 'shared'));
  const workDir = resolve(cwd, (flags.work as string) ?? '.cache/experiments');
  const resultsDir = resolve(cwd, (flags.results as string) ?? 'results');
  const evalLimit = flags['eval-limit'] === undefined ? undefined : Number(flags['eval-limit']);
  if (evalLimit !== undefined && !(Number.isInteger(evalLimit) && evalLimit > 0))
    throw new Error('--eval-limit needs a positive integer');
  for (const name of list) {
    if (!isExperimentName(name)) continue;
    log(`== ${name}${flags.smoke ? ' (smoke)' : ''}`);
    const r = await runExperiment({
      name,
      sharedDir,
      workDir,
      resultsDir,
      smoke: flags.smoke === true,
      evalLimit,
      log,
    });
    const pct = (v?: number) => (v === undefined ? '-' : (v * 100).toFixed(2));
    log(
      `${name}: MELD Acc ${pct(r.row.meldAcc)} WF1 ${pct(r.row.meldWf1)} | Acc-2 ${pct(r.row.acc2NegNonNeg)} / ${pct(r.row.acc2NegPos)} | ECPE F1 ${pct(r.row.ecpeF1)} (${r.seconds.toFixed(0)} s)`,
    );
    log(`   table ${r.tablePath}\n   plot  ${r.plotPath}\n   model ${r.modelDir}`);
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`experiment: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
