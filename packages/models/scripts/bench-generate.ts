// npm run bench:generate — tokens/s of KV-cache generation on the CPU EP for a ~30M-parameter
// Llama-shaped decoder, against its peer measured in the same run: the same greedy decoding
// without a cache (the whole sequence recomputed for every new token, as a graph without past
// inputs must). Last line: kv_cache_vs_recompute_ratio=<tokens/s ratio>.

import { ort } from '@emoverse/runtime';
import type { DecoderConfig } from '../src/index.js';
import {
  buildLmGraph,
  causalBias,
  countParams,
  DecoderModel,
  decoderSpec,
  Generator,
  GraphSession,
  parseConfig,
  randomWeights,
} from '../src/index.js';

const threads = Number(process.env.BENCH_THREADS ?? 2);
const cfg = parseConfig({
  architectures: ['LlamaForCausalLM'],
  vocab_size: 16000,
  hidden_size: 512,
  intermediate_size: 1408,
  num_hidden_layers: 8,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  max_position_embeddings: 1024,
  rope_theta: 10000,
  tie_word_embeddings: true,
  eos_token_id: 2,
}) as DecoderConfig;
const model = new DecoderModel(cfg, randomWeights(decoderSpec(cfg), 1), 'bench-30m');
const params = countParams(model.spec);
const promptLen = 64;
const newTokens = Number(process.env.BENCH_NEW_TOKENS ?? 32);
console.log(
  `model: ${(params / 1e6).toFixed(1)}M parameters, ${cfg.numLayers} layers, d=${cfg.hiddenSize}; ${threads} threads`,
);

function prompts(batch: number): number[][] {
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: promptLen }, (_, i) => 3 + ((b * 131 + i * 17) % (cfg.vocabSize - 3))),
  );
}

async function cached(batch: number): Promise<{ tps: number; tokens: number[][] }> {
  const gen = await Generator.create(model, { session: { intraOpThreads: threads } });
  await gen.generate(prompts(batch), { maxNewTokens: 2, eosTokenIds: [] }); // warm-up
  const t0 = performance.now();
  const r = await gen.generate(prompts(batch), { maxNewTokens: newTokens, eosTokenIds: [] });
  const s = (performance.now() - t0) / 1000;
  await gen.release();
  return { tps: (batch * newTokens) / s, tokens: r.tokens };
}

async function recompute(batch: number): Promise<{ tps: number; tokens: number[][] }> {
  const { g } = buildLmGraph(model, { logits: 'last', name: 'recompute' });
  const s = await GraphSession.create(g, { intraOpThreads: threads });
  const rows = prompts(batch);
  const run = async (n: number) => {
    const seqs = rows.map((r) => [...r]);
    for (let k = 0; k < n; k++) {
      const S = seqs[0].length;
      const mask = seqs.map((r) => r.map(() => 1));
      const out = await s.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(seqs.flat(), BigInt), [batch, S]),
        position_ids: new ort.Tensor(
          'int64',
          BigInt64Array.from(seqs.flatMap((r) => r.map((_, i) => BigInt(i)))),
          [batch, S],
        ),
        attention_bias: new ort.Tensor('float32', causalBias(mask, S), [batch, 1, 1, S, S]),
      });
      const logits = out.logits.data as Float32Array;
      seqs.forEach((r, b) => {
        let best = 0;
        for (let v = 1; v < cfg.vocabSize; v++)
          if (logits[b * cfg.vocabSize + v] > logits[b * cfg.vocabSize + best]) best = v;
        r.push(best);
      });
    }
    return seqs.map((r) => r.slice(promptLen));
  };
  await run(2);
  const t0 = performance.now();
  const tokens = await run(newTokens);
  const sec = (performance.now() - t0) / 1000;
  await s.release();
  return { tps: (batch * newTokens) / sec, tokens };
}

let ratio = 0;
for (const batch of [1, 4]) {
  const a = await cached(batch);
  const b = await recompute(batch);
  const same = JSON.stringify(a.tokens) === JSON.stringify(b.tokens);
  console.log(
    `batch ${batch}: prompt ${promptLen}, ${newTokens} new tokens: kv-cache ${a.tps.toFixed(1)} tokens/s, recompute ${b.tps.toFixed(1)} tokens/s (same tokens: ${same})`,
  );
  if (batch === 1) ratio = a.tps / b.tps;
}
console.log(`kv_cache_vs_recompute_ratio=${ratio.toFixed(2)}`);
