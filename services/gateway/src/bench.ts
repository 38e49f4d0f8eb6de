// npm run bench:gateway -- [--task er|ecpe] [--clients 16] [--requests 192] [--seconds 90] [--rounds 3]
//   [--max-batch 16] [--max-wait-ms 10] [--overload-clients 64] [--threads 1]
// N concurrent clients send ER requests over loopback gRPC to a gateway serving emoverse-nano, first
// with dynamic batching, then to its peer with batch size 1 (same model, same run), each phase
// bounded by a request count and a time limit. Reports throughput, p50/p99 latency and errors per
// phase, then an overload phase (more clients than the queue admits): only RESOURCE_EXHAUSTED is
// acceptable there. Last line: batching_speedup=<x> errors=<n>.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseEmotionQuery, parseSwiftRecords } from '@emoverse/serving';
import { startNatsServer, waitForHealth } from '@emoverse/testing';
import { quantile, spawnClients } from './bench-clients.js';
import { createGatewayService } from './service.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '16' },
    requests: { type: 'string', default: '192' },
    seconds: { type: 'string', default: '90' },
    'max-batch': { type: 'string', default: '16' },
    'max-wait-ms': { type: 'string', default: '10' },
    'overload-clients': { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
    task: { type: 'string', default: 'er' },
    conversations: { type: 'string' },
  },
});
if (values.task === 'ecpe') {
  // generation (ECPE and ERI): continuous batching and the prefix cache against one at a time
  await import('./bench-generation.js');
}
const clients = Number(values.clients);
const maxRequests = Number(values.requests);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const shared = resolve(process.env.EMOVERSE_SHARED ?? join(process.cwd(), '../shared'));
const erFile = join(shared, 'data/m2se_format/meld_dev_er_sample.json');
const texts = parseSwiftRecords(readFileSync(erFile, 'utf8')).map((r) => parseEmotionQuery(r.query)!.text);

const nats = await startNatsServer();

/** A gateway service in this process (real gRPC, real NATS), serving emoverse-nano. */
async function serve(maxBatchSize: number, maxQueue: number) {
  const running = await createGatewayService().run({
    env: {
      ...nats.env('gateway'),
      EMOVERSE_GRPC_HOST: '127.0.0.1',
      EMOVERSE_GRPC_PORT: '0',
      EMOVERSE_LOG_LEVEL: 'warn',
      EMOVERSE_MODEL_SEED: '1',
      EMOVERSE_NANO_CORPUS: erFile,
      EMOVERSE_ORT_THREADS: String(values.threads),
      EMOVERSE_MAX_BATCH: String(maxBatchSize),
      EMOVERSE_MAX_WAIT_MS: String(values['max-wait-ms']),
      EMOVERSE_MAX_QUEUE: String(maxQueue),
    },
  });
  const address = `127.0.0.1:${running.port}`;
  await waitForHealth(address, { timeoutMs: 120_000 });
  const metrics = running.ctx.telemetry.metrics;
  let last = { batches: 0, size: 0, run: 0, wait: 0, waits: 0 };
  /** Batches since the last call: how many, mean size, mean model-call time, mean queue wait. */
  const batching = async () => {
    const read = async (name: string) => {
      const m = (await metrics.getSingleMetric(name)?.get())?.values ?? [];
      const pick = (suffix: string) =>
        m
          .filter(
            (v) =>
              (v as { metricName?: string }).metricName === `${name}${suffix}` && v.labels.kind === 'score',
          )
          .reduce((a, v) => a + v.value, 0);
      return { sum: pick('_sum'), count: pick('_count') };
    };
    const size = await read('emoverse_gateway_batch_size');
    const run = await read('emoverse_gateway_batch_run_seconds');
    const wait = await read('emoverse_gateway_batch_wait_seconds');
    const now = { batches: size.count, size: size.sum, run: run.sum, wait: wait.sum, waits: wait.count };
    const d = {
      batches: now.batches - last.batches,
      size: now.size - last.size,
      run: now.run - last.run,
      wait: now.wait - last.wait,
      waits: now.waits - last.waits,
    };
    last = now;
    return `batches=${d.batches} mean_size=${(d.size / d.batches).toFixed(1)} model_ms=${((1000 * d.run) / d.batches).toFixed(1)} (${((1000 * d.run) / d.size).toFixed(1)}/request) queue_wait_ms=${((1000 * d.wait) / d.waits).toFixed(1)}`;
  };
  return { address, batching, close: () => running.stop() };
}

interface Phase {
  name: string;
  done: number;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
  errors: Map<string, number>;
  latencies: number[];
}

/** Runs `n` concurrent clients in a worker thread against `address`, at most `limit` requests. */
async function run(name: string, address: string, n: number, limit: number): Promise<Phase> {
  const {
    latencies,
    errors,
    seconds: elapsed,
  } = await spawnClients({
    address,
    clients: n,
    limit,
    seconds,
    texts,
  });
  return phase(name, latencies, new Map(errors), elapsed);
}

function report(p: Phase): void {
  const errs = [...p.errors].map(([k, v]) => `${k}:${v}`).join(',') || 'none';
  console.log(
    `${p.name.padEnd(26)} ok=${String(p.done).padStart(4)} in ${p.seconds.toFixed(1)}s  ` +
      `throughput=${p.throughput.toFixed(2)} req/s  p50=${p.p50.toFixed(0)}ms  p99=${p.p99.toFixed(0)}ms  errors=${errs}`,
  );
}

console.log(
  `bench:gateway: ER on emoverse-nano, ${clients} clients over loopback gRPC, ${rounds} rounds of at most ${maxRequests} requests or ${seconds}s per phase`,
);
const batched = await serve(Number(values['max-batch']), 4 * clients);
const single = await serve(1, 4 * clients);
await run('warm-up', batched.address, 2, 4);
await run('warm-up', single.address, 2, 4);
await batched.batching();
await single.batching();
// The CPU is shared with whatever else runs: the two configurations alternate, round after round,
// so that both see the same conditions; the totals over all rounds are compared.
const phases: { batched: Phase[]; single: Phase[] } = { batched: [], single: [] };
for (let round = 1; round <= rounds; round++) {
  const b = await run(
    `round ${round} batched (max ${values['max-batch']})`,
    batched.address,
    clients,
    maxRequests,
  );
  report(b);
  console.log(`  ${await batched.batching()}`);
  phases.batched.push(b);
  const one = await run(`round ${round} batch size 1`, single.address, clients, maxRequests);
  report(one);
  console.log(`  ${await single.batching()}`);
  phases.single.push(one);
}
await single.close();
await batched.close();

// Overload: a small queue and many clients; refusals must be RESOURCE_EXHAUSTED and nothing else.
const small = await serve(Number(values['max-batch']), clients);
const over = await run(
  `overload (${values['overload-clients']} clients)`,
  small.address,
  Number(values['overload-clients']),
  maxRequests,
);
report(over);
await small.close();

/** A phase's figures from its latencies (ms), errors by code and duration. */
function phase(name: string, latencies: number[], errors: Map<string, number>, seconds: number): Phase {
  latencies.sort((a, b) => a - b);
  return {
    name,
    done: latencies.length,
    seconds,
    throughput: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    errors,
    latencies,
  };
}

function total(name: string, ps: Phase[]): Phase {
  const errors = new Map<string, number>();
  for (const p of ps) for (const [k, v] of p.errors) errors.set(k, (errors.get(k) ?? 0) + v);
  return phase(
    name,
    ps.flatMap((p) => p.latencies),
    errors,
    ps.reduce((a, p) => a + p.seconds, 0),
  );
}
const tb = total('all batched', phases.batched);
const ts = total('all batch size 1', phases.single);
report(tb);
report(ts);
const speedup = tb.throughput / ts.throughput;
const belowCapacityErrors = [tb, ts].reduce(
  (n, p) => n + [...p.errors.values()].reduce((a, b) => a + b, 0),
  0,
);
const overloadOther = [...over.errors]
  .filter(([k]) => k !== 'RESOURCE_EXHAUSTED')
  .reduce((n, [, v]) => n + v, 0);
console.log(
  `overload: ${over.errors.get('RESOURCE_EXHAUSTED') ?? 0} RESOURCE_EXHAUSTED, ${overloadOther} other errors`,
);
await nats.stop();
console.log(`batching_speedup=${speedup.toFixed(2)} errors=${belowCapacityErrors + overloadOther}`);
process.exit(0);
