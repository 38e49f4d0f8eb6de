// npm run bench:memory -w @emoverse/models — peak RSS when loading a 500M-parameter random
// Llama checkpoint (fp32, ~2 GB) and running one forward pass.
//   weights in files (default for big checkpoints): ORT reads each tensor from the shard; JS never holds the weights
//   weights in memory: every tensor read into JS, copied into the ONNX model (for comparison; --memory)
// Each measurement runs in a fresh child process so the peaks do not mix.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ort } from '@emoverse/runtime';
import { writeCheckpoint } from '@emoverse/safetensors';
import type { DecoderConfig } from '../src/index.js';
import {
  buildLmGraph,
  causalBias,
  countParams,
  DecoderModel,
  decoderSpec,
  GraphSession,
  hfConfig,
  parseConfig,
} from '../src/index.js';

const CONFIG = {
  architectures: ['LlamaForCausalLM'],
  vocab_size: 32000,
  hidden_size: 1280,
  intermediate_size: 3584,
  num_hidden_layers: 24,
  num_attention_heads: 20,
  num_key_value_heads: 4,
  max_position_embeddings: 2048,
  rope_theta: 10000,
  tie_word_embeddings: false,
  eos_token_id: 2,
};

const [mode, dir, variant] = process.argv.slice(2);

if (mode === '--make') {
  // written shard by shard, each tensor made when the writer reaches it: the writer never holds the model
  const cfg = parseConfig(CONFIG) as DecoderConfig;
  const spec = decoderSpec(cfg);
  let seed = 12345;
  const tensors = Object.fromEntries(
    [...spec].map(([name, shape]) => [
      name,
      {
        dtype: 'F32' as const,
        shape,
        data: () => {
          const n = shape.reduce((a, b) => a * b, 1);
          const out = new Float32Array(n);
          if (shape.length === 1) return out.fill(1);
          for (let i = 0; i < n; i++) {
            seed ^= seed << 13;
            seed ^= seed >>> 17;
            seed ^= seed << 5;
            out[i] = ((seed >>> 0) / 4294967296 - 0.5) * 0.04;
          }
          return out;
        },
      },
    ]),
  );
  writeCheckpoint(dir, tensors, { maxShardBytes: 1 << 30 });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig(cfg), null, 2));
  console.log(JSON.stringify({ params: countParams(spec) }));
} else if (mode === '--load') {
  const t0 = performance.now();
  const model = DecoderModel.fromDir(dir);
  const { g } = buildLmGraph(model, { logits: 'last', weightsInFiles: variant === 'files' });
  const s = await GraphSession.create(g, { intraOpThreads: 2 });
  const S = 8;
  const ids = Array.from({ length: S }, (_, i) => BigInt(10 + i));
  const out = await s.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids), [1, S]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(i))), [1, S]),
    attention_bias: new ort.Tensor('float32', causalBias([Array(S).fill(1)], S), [1, 1, 1, S, S]),
  });
  const finite = Array.from(out.logits.data as Float32Array).every(Number.isFinite);
  console.log(
    JSON.stringify({
      variant,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
      finite,
    }),
  );
  await s.release();
} else {
  const target = process.env.MEMORY_BENCH_DIR ?? join(tmpdir(), 'emoverse-500m');
  const me = process.argv[1];
  const node = [process.execPath, '--import', 'tsx', '--conditions=source', me];
  if (!existsSync(join(target, 'config.json'))) {
    const made = execFileSync(node[0], [...node.slice(1), '--make', target], { encoding: 'utf8' });
    console.log(`wrote a random checkpoint to ${target}: ${JSON.parse(made).params / 1e6}M parameters`);
  }
  const variants = process.argv.includes('--memory') ? ['files', 'memory'] : ['files'];
  for (const v of variants) {
    const r = JSON.parse(
      execFileSync(node[0], [...node.slice(1), '--load', target, v], { encoding: 'utf8', maxBuffer: 1 << 20 })
        .trim()
        .split('\n')
        .pop()!,
    );
    console.log(
      `weights in ${v}: peak RSS ${r.peakRssMB} MB, load + one forward ${r.seconds} s, logits finite: ${r.finite}`,
    );
  }
  if (process.argv.includes('--clean')) rmSync(target, { recursive: true, force: true });
}
