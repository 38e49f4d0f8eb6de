// npm run demo [-- --quick] [--shared <dir>] [--out <dir>] [--verbose]
// The whole pipeline on a local stack; see README.md. Ctrl-C stops every process it started.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, sharedDir } from '@emoverse/testing';
import { type DemoOptions, defaultOutDir, PROFILES } from './private/options.js';
import { runDemo } from './private/run.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    shared: { type: 'string' },
    out: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    'keep-work': { type: 'boolean', default: false },
    until: { type: 'string' },
  },
});

if (values.shared) process.env.EMOVERSE_SHARED = resolve(values.shared);
const quick = Boolean(values.quick);
const workDir = mkdtempSync(join(tmpdir(), 'emoverse-demo-'));
const controller = new AbortController();
let interrupted = 0;
const onSignal = (sig: NodeJS.Signals) => {
  interrupted++;
  if (interrupted > 1) {
    // A second Ctrl-C: leave now; @emoverse/testing kills the children on exit.
    process.exit(130);
  }
  process.stderr.write(`\n${sig}: stopping the demo and every process it started (Ctrl-C again to force)\n`);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

let code = 0;
try {
  const result = await runDemo({
    profile: PROFILES[quick ? 'quick' : 'full'],
    sharedDir: sharedDir(),
    outDir: values.out ? resolve(values.out) : defaultOutDir(repoRoot(), quick),
    workDir,
    signal: controller.signal,
    verbose: values.verbose,
    until: values.until as DemoOptions['until'],
  });
  if (quick && result.seconds > 180)
    process.stdout.write(`note: --quick took ${result.seconds.toFixed(0)} s (goal < 180 s)\n`);
} catch (e) {
  if (controller.signal.aborted) {
    code = 130;
    process.stderr.write('demo interrupted; every process it started has been stopped\n');
  } else {
    code = 1;
    process.stderr.write(`demo failed: ${(e as Error).stack ?? e}\n`);
  }
} finally {
  if (!values['keep-work']) rmSync(workDir, { recursive: true, force: true });
}
process.exit(code);
