// npm run bench:gateway -- [--clients 16] [--requests 192] [--seconds 90] [--rounds 3]
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
import * as grpc from '@grpc/grpc-js';
import { GatewayClient } from './client.js';
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
  },
});
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
      NATS_URL: nats.url,
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
  return { address, close: () => running.stop() };
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

const quantile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : Number.NaN;

async function run(name: string, address: string, n: number, limit: number): Promise<Phase> {
  const client = new GatewayClient(address);
  await client.waitForReady();
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let issued = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async (w: number) => {
    while (issued < limit && performance.now() < deadline) {
      const text = texts[issued++ % texts.length];
      const t0 = performance.now();
      try {
        await client.emotion({ input: { text } }, { timeoutMs: 60_000 });
        latencies.push(performance.now() - t0);
      } catch (e) {
        const code = grpc.status[(e as grpc.ServiceError).code] ?? 'UNKNOWN';
        errors.set(code, (errors.get(code) ?? 0) + 1);
        // A refused client backs off as told before its next request.
        if (code === 'RESOURCE_EXHAUSTED') await new Promise((r) => setTimeout(r, 5 + (w % 5)));
      }
    }
  };
  await Promise.all(Array.from({ length: n }, (_, w) => worker(w)));
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  latencies.sort((a, b) => a - b);
  return {
    name,
    done: latencies.length,
    seconds: elapsed,
    throughput: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    errors,
    latencies,
  };
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
  phases.batched.push(b);
  const one = await run(`round ${round} batch size 1`, single.address, clients, maxRequests);
  report(one);
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

function total(name: string, ps: Phase[]): Phase {
  const latencies = ps.flatMap((p) => p.latencies).sort((a, b) => a - b);
  const errors = new Map<string, number>();
  for (const p of ps) for (const [k, v] of p.errors) errors.set(k, (errors.get(k) ?? 0) + v);
  const secs = ps.reduce((a, p) => a + p.seconds, 0);
  return {
    name,
    done: latencies.length,
    seconds: secs,
    throughput: latencies.length / secs,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    errors,
    latencies,
  };
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
