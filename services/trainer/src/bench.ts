// npm run bench:trainer: training tokens/s of emoverse-nano on the CPU EP as the trainer runs it (the
// service's model construction, packages/m2se's loop with its sampler, DWA weights and schedule), for
// the recipe's stage setting (LoRA r=8 on all linears + projector W_v, base frozen) against a peer
// measured in the same run on the same micro-batches: the LM pre-training setting (every weight
// trained, no LoRA). The two alternate (the machine is shared) and each keeps its best round.
// Data: the paper-format ER and ECPE samples in $EMOVERSE_SHARED/data/m2se_format.
import { join, resolve } from 'node:path';
import {
  chatTemplateFormat,
  type EmtExample,
  encodeExample,
  lmTrainerEngine,
  lmTrainerOptions,
  readPaperFormatSamples,
  train,
  validateRecipe,
} from '@emoverse/m2se';
import { baseModel } from '@emoverse/trainer-core';

const shared = resolve(process.env.EMOVERSE_SHARED ?? join(import.meta.dirname, '../../../../shared'));
const examples = readPaperFormatSamples(shared);
const samples = Number(process.env.BENCH_SAMPLES ?? 32);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);

const recipe = validateRecipe({
  name: 'bench-trainer',
  seed: 1,
  model: { base: 'emoverse-nano' },
  lora: {
    r: 8,
    alpha: 32,
    dropout: 0.05,
    targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  },
  optimizer: { lr: 1e-3, weightDecay: 0.01 },
  schedule: { warmupRatio: 0.1 },
  batch: { size: 4, gradAccumulation: 1, maxSeqLen: 256 },
  lossWeighting: { mode: 'dwa', temperature: 2, period: 2 },
  data: { shards: ['*.jsonl'] },
  pretraining: { samples, lr: 3e-3 },
  stages: [{ name: 'bench', epochs: 1, samples, tasks: { ER: 0.6, ECPE: 0.4 } }],
});
const model = baseModel({ recipe: { ...recipe, seed: 0 }, ep: 'cpu', defaultVocabSize: 1024, examples });
const format = chatTemplateFormat(model.tokenizer);
const encode = (ex: EmtExample) =>
  encodeExample(model.tokenizer, ex, { maxSeqLen: recipe.batch.maxSeqLen, format, eosId: model.eosId });

async function measure(phase: 'stages' | 'pretraining') {
  const trainer = await model.trainer(lmTrainerOptions(recipe, phase));
  const t0 = performance.now();
  const run = await train({ recipe, examples, engine: lmTrainerEngine(trainer), encode, padId: 0 });
  const seconds = (performance.now() - t0) / 1000;
  const params = [...(await trainer.parameters()).values()].reduce((s, v) => s + v.length, 0);
  await trainer.release();
  const tokens = run.history.reduce((s, h) => s + h.tokens, 0);
  return {
    seconds,
    tokens,
    rate: tokens / seconds,
    steps: run.steps,
    params,
    loss: [run.history[0].loss, run.history[run.history.length - 1].loss],
  };
}

let lora: Awaited<ReturnType<typeof measure>> | undefined;
let full: Awaited<ReturnType<typeof measure>> | undefined;
for (let r = 0; r < Math.max(1, rounds); r++) {
  const f = await measure('pretraining');
  if (!full || f.rate > full.rate) full = f;
  const l = await measure('stages');
  if (!lora || l.rate > lora.rate) lora = l;
}
if (!lora || !full) throw new Error('no rounds');
const c = model.llm.config;
const fmt = (x: NonNullable<typeof lora>) =>
  `${x.rate.toFixed(0)} tokens/s (${x.tokens} tokens, ${x.steps} steps, ${x.seconds.toFixed(2)} s; ${x.params} trained values; loss ${x.loss[0].toFixed(3)} -> ${x.loss[1].toFixed(3)})`;
console.log(
  `emoverse-nano ${c.numLayers} x ${c.hiddenSize}, vocab ${model.tokenizer.vocabSize}, CPU EP, batch ${recipe.batch.size}, best of ${rounds}`,
);
console.log(`LoRA r=8 + projector (stages): ${fmt(lora)}`);
console.log(`full weights (LM pre-training): ${fmt(full)}`);
console.log(`lora_vs_full_tokens_per_s_ratio=${(lora.rate / full.rate).toFixed(3)}`);
