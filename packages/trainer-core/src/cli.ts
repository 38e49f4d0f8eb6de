// npm run experiment -- <msa-only|er-only|multitask-1stage|m2se|all> [--seeds N] [--smoke]
//   [--shared DIR] [--work DIR] [--results DIR] [--eval-split test|dev] [--eval-limit N] [--evaluate-only]
//   [--calibration fit|keep|none] [--skip-recorded]
// Trains emoverse-nano from scratch on CPU with the named recipe of the paper's ablation (once per
// seed), evaluates the saved model folder through the gateway's serving code on the full MELD / ECF
// test splits with the baselines of the same run, and rewrites results/ablation.md and its chart from
// every run recorded so far. The last line is machine-readable:
//   result name=<n> er_wf1=<x> er_bow_wf1=<x> er_majority_wf1=<x> acc2=<x> acc2_bow=<x> ecpe_f1=<x>
//     ecpe_selfprev_f1=<x> train_s=<s>
// Smoke runs, dev-split runs and --eval-limit runs go under the work folder, never into results/.
// --evaluate-only re-scores the model folder an earlier run saved (same recipe and seed), without training.
// --calibration: the folder's label offsets are fitted on dev after training ('fit', the default),
// kept as saved ('keep', the default with --evaluate-only) or removed ('none': plain argmax).
// --skip-recorded leaves out the seeds whose run results/runs already holds (to complete an ablation).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPERIMENTS, type ExperimentName, loadShippedRecipe } from '@emoverse/m2se';
import { writeAblation } from './private/ablation.js';
import { isExperimentName, type RunRecord, runExperiment } from './private/experiment.js';

const FLAGS = [
  'smoke',
  'shared',
  'work',
  'results',
  'eval-limit',
  'eval-split',
  'seeds',
  'evaluate-only',
  'calibration',
  'skip-recorded',
];

/** The closing line: every value in % on the evaluated records, '-' where a task was not trained. */
export function resultLine(run: RunRecord): string {
  const pct = (v?: { value: number }) => (v === undefined ? '-' : (v.value * 100).toFixed(2));
  const base = (name: string) => run.baselines.find((b) => b.name === name)?.scores;
  const fields = {
    name: run.name,
    er_wf1: pct(run.scores.meldWf1),
    er_bow_wf1: pct(base('bag-of-words')?.meldWf1),
    er_majority_wf1: pct(base('majority')?.meldWf1),
    acc2: pct(run.scores.acc2NegNonNeg),
    acc2_bow: pct(base('bag-of-words')?.acc2NegNonNeg),
    ecpe_f1: pct(run.scores.ecpeF1),
    ecpe_selfprev_f1: pct(base('ecpe-self-prev')?.ecpeF1),
    train_s: run.trainSeconds.toFixed(0),
  };
  return `result ${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}

export async function main(argv: string[], log: (line: string) => void = console.log): Promise<number> {
  const names: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--smoke' || a === '--evaluate-only' || a === '--skip-recorded') flags[a.slice(2)] = true;
    else if (a.startsWith('--')) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      flags[a.slice(2)] = v;
      i++;
    } else names.push(a);
  }
  const unknown = Object.keys(flags).filter((k) => !FLAGS.includes(k));
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
  const evalLimit = positive(flags['eval-limit'], '--eval-limit');
  const seeds = positive(flags.seeds, '--seeds') ?? 1;
  const evalSplit = (flags['eval-split'] as string | undefined) ?? 'test';
  if (evalSplit !== 'test' && evalSplit !== 'dev') throw new Error('--eval-split is test or dev');
  const calibration = flags.calibration as string | undefined;
  if (calibration !== undefined && !['fit', 'keep', 'none'].includes(calibration))
    throw new Error('--calibration is fit, keep or none');
  // only full test-split runs are reported: anything else goes under the work folder
  const reported = flags.smoke !== true && evalSplit === 'test' && evalLimit === undefined;
  const resultsDir = resolve(
    cwd,
    (flags.results as string) ?? (reported ? 'results' : join(workDir, 'results')),
  );
  for (const name of list) {
    if (!isExperimentName(name)) continue;
    for (let k = 0; k < seeds; k++) {
      if (flags['skip-recorded'] && recorded(resultsDir, name, k, flags.smoke === true)) {
        log(`== ${name} seed offset ${k}: a run is recorded in ${resultsDir}/runs, skipped`);
        continue;
      }
      log(`== ${name}${flags.smoke ? ' (smoke)' : ''}${seeds > 1 ? ` seed ${k + 1}/${seeds}` : ''}`);
      const r = await runExperiment({
        name,
        sharedDir,
        workDir,
        resultsDir,
        smoke: flags.smoke === true,
        evalLimit,
        evalSplit,
        evaluateOnly: flags['evaluate-only'] === true,
        calibration: calibration as 'fit' | 'keep' | 'none' | undefined,
        seedOffset: k,
        log,
      });
      const table = await writeAblation(resultsDir, { smoke: flags.smoke === true });
      log(`   run   ${r.runPath}\n   plot  ${r.plotPath}\n   model ${r.run.modelDir}\n   table ${table}`);
      log(resultLine(r.run));
    }
  }
  return 0;
}

/** Whether results/runs holds the run of `name` at seed offset `k` from its shipped recipe's seed. */
function recorded(resultsDir: string, name: ExperimentName, k: number, smoke: boolean): boolean {
  const seed = loadShippedRecipe(`${name}-nano`).seed + k;
  return existsSync(join(resultsDir, 'runs', `${name}-seed${seed}${smoke ? '-smoke' : ''}.json`));
}

function positive(v: string | true | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${flag} needs a positive integer`);
  return n;
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
