// bench:gateway's clients, run in their own thread so that the gateway's event loop (gRPC server,
// batching) does not also carry the clients' work, as it would not in a deployment.
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { GenerateRequestSchema } from '@emoverse/proto';
import * as grpc from '@grpc/grpc-js';
import { GatewayClient } from './client.js';

export interface ClientsJob {
  address: string;
  clients: number;
  limit: number;
  seconds: number;
  /** ER requests (one utterance each)... */
  texts: string[];
  /** ...or, when given, streamed Generate requests instead */
  generate?: MessageInitShape<typeof GenerateRequestSchema>[];
}

export interface ClientsResult {
  latencies: number[];
  errors: [string, number][];
  seconds: number;
  /** Generate requests: ms to the first piece of text, and generated tokens, per request */
  firstTokenMs?: number[];
  tokens?: number[];
}

/** One streamed generation: its latency, time to first text and token count go to `out`. */
async function streamOne(
  client: GatewayClient,
  req: MessageInitShape<typeof GenerateRequestSchema>,
  out: Required<Pick<ClientsResult, 'latencies' | 'firstTokenMs' | 'tokens'>>,
): Promise<void> {
  const t0 = performance.now();
  let first: number | undefined;
  const all = await client.generate(
    req,
    (m) => {
      if (first === undefined && m.text) first = performance.now() - t0;
    },
    { timeoutMs: 120_000 },
  );
  out.latencies.push(performance.now() - t0);
  out.firstTokenMs.push(first ?? performance.now() - t0);
  out.tokens.push(all.at(-1)?.generatedTokens ?? 0);
}

async function runClients(job: ClientsJob): Promise<ClientsResult> {
  const client = new GatewayClient(job.address);
  await client.waitForReady();
  const out = { latencies: [] as number[], firstTokenMs: [] as number[], tokens: [] as number[] };
  const { latencies } = out;
  const errors = new Map<string, number>();
  let issued = 0;
  const started = performance.now();
  const deadline = started + job.seconds * 1000;
  const worker = async (w: number) => {
    while (issued < job.limit && performance.now() < deadline) {
      const n = issued++;
      const t0 = performance.now();
      try {
        if (job.generate) await streamOne(client, job.generate[n % job.generate.length], out);
        else {
          await client.emotion({ input: { text: job.texts[n % job.texts.length] } }, { timeoutMs: 60_000 });
          latencies.push(performance.now() - t0);
        }
      } catch (e) {
        const code = grpc.status[(e as grpc.ServiceError).code] ?? 'UNKNOWN';
        errors.set(code, (errors.get(code) ?? 0) + 1);
        // A refused client backs off a little before its next request.
        if (code === 'RESOURCE_EXHAUSTED') await new Promise((r) => setTimeout(r, 5 + (w % 5)));
      }
    }
  };
  await Promise.all(Array.from({ length: job.clients }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  client.close();
  return job.generate
    ? { ...out, errors: [...errors], seconds }
    : { latencies, errors: [...errors], seconds };
}

export const quantile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : Number.NaN;

/** Runs a job's clients in a worker thread of their own (this module). */
export function spawnClients(job: ClientsJob): Promise<ClientsResult> {
  const main = new URL(
    import.meta.url.endsWith('.ts') ? './bench-clients.ts' : './bench-clients.js',
    import.meta.url,
  );
  // Under tsx the worker must register tsx itself before importing the .ts source.
  const worker = import.meta.url.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(main.href)}); });`,
        { eval: true, workerData: job },
      )
    : new Worker(main, { workerData: job });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { ok: boolean; result?: ClientsResult; error?: string }) => {
      void worker.terminate();
      if (!m.ok || !m.result) reject(new Error(m.error));
      else resolve(m.result);
    });
  });
}

if (parentPort && workerData) {
  const port = parentPort;
  runClients(workerData as ClientsJob).then(
    (r) => port.postMessage({ ok: true, result: r }),
    (e: Error) => port.postMessage({ ok: false, error: e.message }),
  );
}
