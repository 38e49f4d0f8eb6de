// npm run emt:build -- --shared <dir> --out <dir> [--seed N] [--tasks msa,er,eri,ecpe] [--mosei file]... [--aus peak-aus.jsonl]
//   [--eri offline|openai] [--eri-url URL --eri-model NAME --eri-timeout-ms N] [--ecpe target|conversation]
//   [--no-ecf2] [--shard-size N]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildEmt } from './private/build.js';
import { type EriGenerator, offlineEri, openAiEri, withFallback } from './private/eri.js';
import { TASKS, type Task } from './private/types.js';

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      shared: { type: 'string', default: process.env.EMOVERSE_SHARED ?? '../shared' },
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
  if (!values.out) {
    console.error(
      'usage: emt:build -- --shared <dir> --out <dir> [--seed N] [--tasks msa,er,eri,ecpe] [--mosei file]',
    );
    return 2;
  }
  const tasks = values.tasks?.split(',').map((t) => t.trim()) as Task[] | undefined;
  const unknown = tasks?.filter((t) => !(TASKS as readonly string[]).includes(t));
  if (unknown && unknown.length > 0) {
    console.error(`unknown task(s): ${unknown.join(', ')} (known: ${TASKS.join(', ')})`);
    return 2;
  }
  if (values.ecpe !== 'target' && values.ecpe !== 'conversation') {
    console.error('--ecpe must be target or conversation');
    return 2;
  }
  const seed = Number(values.seed);
  let eri: EriGenerator = offlineEri(seed);
  if (values.eri === 'openai') {
    if (!values['eri-url']) {
      console.error('--eri openai needs --eri-url');
      return 2;
    }
    eri = withFallback(
      openAiEri({
        url: values['eri-url'],
        model: values['eri-model']!,
        timeoutMs: Number(values['eri-timeout-ms']),
      }),
      offlineEri(seed),
    );
  } else if (values.eri !== 'offline') {
    console.error('--eri must be offline or openai (the gateway backend is used from code)');
    return 2;
  }
  const started = performance.now();
  const { manifest, quality, issues } = await buildEmt({
    sharedDir: resolve(values.shared!),
    outDir: resolve(values.out),
    seed,
    tasks,
    eri,
    moseiFiles: values.mosei?.map((f) => resolve(f)),
    peakAusFile: values.aus ? resolve(values.aus) : undefined,
    ecf2: !values['no-ecf2'],
    ecpeMode: values.ecpe,
    shardSize: Number(values['shard-size']),
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(`EMT: ${manifest.total} records in ${manifest.shards.length} shards -> ${resolve(values.out)}`);
  for (const [task, bySplit] of Object.entries(manifest.counts)) {
    console.log(
      `  ${task.padEnd(5)} ${Object.entries(bySplit!)
        .map(([s, n]) => `${s} ${n}`)
        .join('  ')}`,
    );
  }
  console.log(`  dropped: ${JSON.stringify(quality.dropped)}; malformed rows: ${issues.length}`);
  console.log(`  built in ${seconds.toFixed(1)} s`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
