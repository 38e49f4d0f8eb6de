// bench:gateway's clients, run in their own thread so that the gateway's event loop (gRPC server,
// batching) does not also carry the clients' work, as it would not in a deployment.
import { parentPort, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { GatewayClient } from './client.js';

export interface ClientsJob {
  address: string;
  clients: number;
  limit: number;
  seconds: number;
  texts: string[];
}

export interface ClientsResult {
  latencies: number[];
  errors: [string, number][];
  seconds: number;
}

async function runClients(job: ClientsJob): Promise<ClientsResult> {
  const client = new GatewayClient(job.address);
  await client.waitForReady();
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let issued = 0;
  const started = performance.now();
  const deadline = started + job.seconds * 1000;
  const worker = async (w: number) => {
    while (issued < job.limit && performance.now() < deadline) {
      const text = job.texts[issued++ % job.texts.length];
      const t0 = performance.now();
      try {
        await client.emotion({ input: { text } }, { timeoutMs: 60_000 });
        latencies.push(performance.now() - t0);
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
  return { latencies, errors: [...errors], seconds };
}

if (parentPort && workerData) {
  const port = parentPort;
  runClients(workerData as ClientsJob).then(
    (r) => port.postMessage({ ok: true, result: r }),
    (e: Error) => port.postMessage({ ok: false, error: e.message }),
  );
}
