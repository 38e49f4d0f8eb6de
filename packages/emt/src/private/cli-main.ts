// The emt:build command line: npm run emt:build -- --shared <dir> --out <dir> [--seed N] [--tasks msa,er,eri,ecpe] [--mosei file]... [--aus peak-aus.jsonl]
//   [--eri offline|openai] [--eri-url URL --eri-model NAME --eri-timeout-ms N] [--ecpe target|conversation]
//   [--no-ecf2] [--shard-size N]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildEmt } from './build.js';
import { type EriGenerator, offlineEri, openAiEri, withFallback } from './eri.js';
import { TASKS, type Task } from './types.js';

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      shared: { type: 'string', default: process.env.EMOVERSE_SHARED },
      out: { type: 'string' },
      seed: { type: 'string', default: '0' },
      tasks: { type: 'string' },
      mosei: { type: 'string', multiple: true },
      aus: { type: 'string' },
      eri: { type: 'string', default: 'offline' },
      'eri-url': { type: 'string' },
      'eri-model': { type: 'string', default: 'default' },
      'eri-timeout-ms': { type: 'string', default: '30000' },
      ecpe: { type: 'string', default: 'target' },
      'no-ecf2': { type: 'boolean', default: false },
      'shard-size': { type: 'string', default: '5000' },
    },
    allowPositionals: false,
  });
}

/** Runs the command line; returns the exit code. `log`/`error` default to the console. */
export async function runCli(
  argv: string[],
  io: { log: (line: string) => void; error: (line: string) => void } = {
    log: console.log,
    error: console.error,
  },
): Promise<number> {
  const { log, error } = io;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    error((e as Error).message);
    return 2;
  }
  const { values } = parsed;
  // npm runs scripts from the repository root; paths the user typed are relative to where they typed them.
  const here = (p: string) => resolve(process.env.INIT_CWD ?? process.cwd(), p);
  if (!values.out) {
    error(
      'usage: emt:build -- --shared <dir> --out <dir> [--seed N] [--tasks msa,er,eri,ecpe] [--mosei file]',
    );
    return 2;
  }
  const tasks = values.tasks?.split(',').map((t) => t.trim()) as Task[] | undefined;
  const unknown = tasks?.filter((t) => !(TASKS as readonly string[]).includes(t));
  if (unknown && unknown.length > 0) {
    error(`unknown task(s): ${unknown.join(', ')} (known: ${TASKS.join(', ')})`);
    return 2;
  }
  if (values.ecpe !== 'target' && values.ecpe !== 'conversation') {
    error('--ecpe must be target or conversation');
    return 2;
  }
  const seed = Number(values.seed);
  const shardSize = Number(values['shard-size']);
  const timeoutMs = Number(values['eri-timeout-ms']);
  if (!Number.isInteger(seed) || !Number.isInteger(shardSize) || shardSize < 1 || !(timeoutMs > 0)) {
    error('--seed must be an integer, --shard-size a positive integer, --eri-timeout-ms a positive number');
    return 2;
  }
  let eri: EriGenerator = offlineEri(seed);
  if (values.eri === 'openai') {
    if (!values['eri-url']) {
      error('--eri openai needs --eri-url');
      return 2;
    }
    eri = withFallback(
      openAiEri({
        url: values['eri-url'],
        model: values['eri-model']!,
        timeoutMs,
      }),
      offlineEri(seed),
    );
  } else if (values.eri !== 'offline') {
    error('--eri must be offline or openai (the gateway backend is used from code)');
    return 2;
  }
  const started = performance.now();
  const { manifest, quality, issues } = await buildEmt({
    sharedDir: values.shared === undefined ? resolve('../shared') : here(values.shared),
    outDir: here(values.out),
    seed,
    tasks,
    eri,
    moseiFiles: values.mosei?.map(here),
    peakAusFile: values.aus ? here(values.aus) : undefined,
    ecf2: !values['no-ecf2'],
    ecpeMode: values.ecpe,
    shardSize,
    onWarning: (m) => error(`warning: ${m}`),
  });
  const seconds = (performance.now() - started) / 1000;
  log(`EMT: ${manifest.total} records in ${manifest.shards.length} shards -> ${here(values.out)}`);
  for (const [task, bySplit] of Object.entries(manifest.counts)) {
    log(
      `  ${task.padEnd(5)} ${Object.entries(bySplit!)
        .map(([s, n]) => `${s} ${n}`)
        .join('  ')}`,
    );
  }
  log(`  dropped: ${JSON.stringify(quality.dropped)}; malformed rows: ${issues.length}`);
  log(`  built in ${seconds.toFixed(1)} s`);
  return 0;
}
