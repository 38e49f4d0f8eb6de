// npm run bench:gateway -- --task ecpe [--clients 16] [--requests 96] [--seconds 120] [--rounds 2]
//   [--conversations 12] [--threads 1]
// Generation through the gateway: N concurrent clients stream ECPE and ERI requests built from ECF
// test conversations (every emotion utterance of a conversation is a target, so requests share the
// conversation's text) over loopback gRPC. Rounds take disjoint slices of the requests, so no prompt
// is ever sent twice to a gateway (its prefix cache meets only prefixes that real traffic repeats). Two gateways serve the released emoverse-nano
// (release/models/m2se-nano) from the same build: one with continuous batching and the prefix
// cache (EMOVERSE_MAX_SEQUENCES=16), its peer one request at a time (EMOVERSE_MAX_SEQUENCES=1,
// no prefix cache). Rounds alternate between them, so both see the same machine load.
// Reports generated tokens/s, p50/p99 time to first token and per-token latency for each, and
// where each gateway's model time went (prefill vs decode steps); `ceiling_if_decode_free` is the
// one-at-a-time model time over the continuous gateway's prefill time alone: the most any decode
// batching could give on this model and machine.
// Last line: generation_speedup=<x> prefix_hit_rate=<y> errors=<n>.

import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { loadEcf1 } from '@emoverse/emt';
import { type GenerateRequestSchema, Task } from '@emoverse/proto';
import { ecpePrompt } from '@emoverse/serving';
import { repoRoot, startNatsServer, waitForHealth } from '@emoverse/testing';
import { type ClientsResult, quantile, spawnClients } from './bench-clients.js';
import { createGatewayService } from './service.js';

const { values } = parseArgs({
  strict: false,
  options: {
    clients: { type: 'string', default: '16' },
    requests: { type: 'string', default: '96' },
    seconds: { type: 'string', default: '120' },
    rounds: { type: 'string', default: '2' },
    conversations: { type: 'string', default: '24' },
    threads: { type: 'string', default: '1' },
  },
});
const num = (k: keyof typeof values) => Number(values[k]);
const shared = resolve(process.env.EMOVERSE_SHARED ?? join(process.cwd(), '../shared'));
const MODEL_DIR = join(repoRoot(), 'release/models/m2se-nano');

type Request = MessageInitShape<typeof GenerateRequestSchema>;

/** ECPE (the paper's prompt, sent raw) and ERI requests for every emotion utterance of the first ECF test conversations. */
function requests(conversations: number): Request[] {
  const test = loadEcf1(join(shared, 'data/ecf/mecpe')).conversations.filter((c) => c.split === 'test');
  const out: Request[] = [];
  for (const c of test.slice(0, conversations)) {
    const turns = c.utterances.map((u) => ({ speaker: u.speaker, text: u.text, emotion: u.emotion }));
    c.utterances.forEach((u, i) => {
      if (!u.emotion || u.emotion === 'neutral') return;
      out.push({ input: { text: ecpePrompt(turns, i + 1), options: { maxNewTokens: 32 } } });
      out.push({
        task: Task.ERI,
        input: {
          text: u.text,
          speaker: u.speaker,
          history: turns.slice(0, i),
          options: { maxNewTokens: 64 },
        },
      });
    });
  }
  return out;
}

/** A gateway in this process serving the released model, continuously batched or one at a time. */
async function serve(env: Record<string, string>, continuous: boolean) {
  const running = await createGatewayService().run({
    env: {
      ...env,
      EMOVERSE_GRPC_HOST: '127.0.0.1',
      EMOVERSE_GRPC_PORT: '0',
      EMOVERSE_LOG_LEVEL: 'warn',
      EMOVERSE_MODEL_DIR: MODEL_DIR,
      EMOVERSE_ORT_THREADS: String(values.threads),
      EMOVERSE_MAX_QUEUE: String(8 * num('clients')),
      EMOVERSE_MAX_SEQUENCES: continuous ? '16' : '1',
      EMOVERSE_PREFIX_CACHE: String(continuous),
    },
  });
  const address = `127.0.0.1:${running.port}`;
  await waitForHealth(address, { timeoutMs: 120_000 });
  const gauge = async (name: string) =>
    (await running.ctx.telemetry.metrics.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
  return { address, gauge, close: () => running.stop() };
}

interface Totals {
  tokens: number;
  seconds: number;
  errors: number;
  firstTokenMs: number[];
  perTokenMs: number[];
}

function add(t: Totals, r: ClientsResult): void {
  t.seconds += r.seconds;
  t.errors += r.errors.reduce((a, [, n]) => a + n, 0);
  r.tokens!.forEach((n, i) => {
    t.tokens += n;
    t.firstTokenMs.push(r.firstTokenMs![i]);
    if (n > 1) t.perTokenMs.push((r.latencies[i] - r.firstTokenMs![i]) / (n - 1));
  });
}

function report(name: string, t: Totals): number {
  const ttft = [...t.firstTokenMs].sort((a, b) => a - b);
  const tpot = [...t.perTokenMs].sort((a, b) => a - b);
  const rate = t.tokens / t.seconds;
  console.log(
    `${name.padEnd(28)} requests=${ttft.length} tokens/s=${rate.toFixed(1)} ` +
      `ttft p50=${quantile(ttft, 0.5).toFixed(0)}ms p99=${quantile(ttft, 0.99).toFixed(0)}ms ` +
      `per-token p50=${quantile(tpot, 0.5).toFixed(1)}ms p99=${quantile(tpot, 0.99).toFixed(1)}ms errors=${t.errors}`,
  );
  return rate;
}

const all = requests(num('conversations'));
console.log(
  `bench:gateway --task ecpe: ${all.length} ECPE + ERI requests from ${num('conversations')} ECF test conversations, ` +
    `${num('clients')} streaming clients, ${num('rounds')} rounds of at most ${num('requests')} requests or ${num('seconds')}s`,
);
const nats = await startNatsServer();
const batched = await serve(nats.env('gateway'), true);
const single = await serve(nats.env('gateway'), false);
const totals = { batched: newTotals(), single: newTotals() };
function newTotals(): Totals {
  return { tokens: 0, seconds: 0, errors: 0, firstTokenMs: [], perTokenMs: [] };
}
for (let round = 1; round <= num('rounds'); round++) {
  // each round takes the next slice of requests: no request is repeated
  const slice = all.slice((round - 1) * num('requests'), round * num('requests'));
  if (slice.length < num('requests'))
    throw new Error(
      `${all.length} requests cannot fill ${num('rounds')} rounds of ${num('requests')}: pass more --conversations`,
    );
  for (const [name, gw] of [
    ['batched', batched],
    ['single', single],
  ] as const) {
    const r = await spawnClients({
      address: gw.address,
      clients: num('clients'),
      limit: num('requests'),
      seconds: num('seconds'),
      texts: [],
      generate: slice,
    });
    const t = newTotals();
    add(t, r);
    add(totals[name], r);
    report(`round ${round} ${name === 'batched' ? 'continuous + prefix' : 'one at a time'}`, t);
  }
}
const fast = report('all continuous + prefix', totals.batched);
const slow = report('all one at a time', totals.single);
const hitRate = await batched.gauge('emoverse_gateway_prefix_cache_hit_rate');
const rows = await batched.gauge('emoverse_gateway_decode_rows_per_step');
console.log(
  `continuous gateway: ${rows.toFixed(2)} sequences per decode step, prefix hit rate ${hitRate.toFixed(3)}`,
);
const modelTime = async (gw: typeof batched) => ({
  prefill: await gw.gauge('emoverse_gateway_generation_prefill_seconds'),
  decode: await gw.gauge('emoverse_gateway_generation_decode_seconds'),
});
const [tb, ts] = [await modelTime(batched), await modelTime(single)];
for (const [name, t] of [
  ['continuous + prefix', tb],
  ['one at a time', ts],
] as const)
  console.log(
    `model time ${name.padEnd(20)} prefill=${t.prefill.toFixed(2)}s decode=${t.decode.toFixed(2)}s`,
  );
console.log(`ceiling_if_decode_free=${((ts.prefill + ts.decode) / tb.prefill).toFixed(2)}`);
await batched.close();
await single.close();
await nats.stop();
console.log(
  `generation_speedup=${(fast / slow).toFixed(2)} prefix_hit_rate=${hitRate.toFixed(3)} errors=${totals.batched.errors + totals.single.errors}`,
);
process.exit(0);
