// npm run bench:train: training tokens/s of emoverse-nano on CPU through the M2SE loop (task
// sampler, DWA weights, schedule, LoRA + projector on LmTrainer), against a peer measured in the
// same run: the same micro-batches fed straight to LmTrainer.step. The ratio is the loop's overhead.
// Data: the paper-format ER and ECPE samples in $EMOVERSE_SHARED/data/m2se_format.
import { join, resolve } from 'node:path';
import { EmoVerseLM } from '@emoverse/models';
import {
  chatTemplateFormat,
  collate,
  DataIterator,
  type EmtExample,
  encodeExample,
  lmTrainerEngine,
  readPaperFormatSamples,
  train,
  validateRecipe,
} from '../src/index.js';

const shared = resolve(process.env.EMOVERSE_SHARED ?? join(import.meta.dirname, '../../../../shared'));
const examples = readPaperFormatSamples(shared);
const samples = Number(process.env.BENCH_SAMPLES ?? 48);

const recipe = validateRecipe({
  name: 'bench-train',
  seed: 1,
  model: { base: 'emoverse-nano' },
  lora: {
    r: 8,
    alpha: 32,
    dropout: 0,
    targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  },
  optimizer: { lr: 1e-3 },
  schedule: { warmupRatio: 0.1 },
  batch: { size: 4, gradAccumulation: 2, maxSeqLen: 384 },
  lossWeighting: { mode: 'dwa', temperature: 2, period: 2 },
  data: { shards: ['*.jsonl'] },
  stages: [{ name: 'bench', epochs: 1, samples, tasks: { ER: 0.6, ECPE: 0.4 } }],
});

const corpus = [...examples.ER, ...examples.ECPE].flatMap((e) => [e.query, e.response]);
const lm = EmoVerseLM.createNano({ corpus, vocabSize: 1024, seed: 0 });
const format = chatTemplateFormat(lm.tokenizer);
const encode = (ex: EmtExample) =>
  encodeExample(lm.tokenizer, ex, { maxSeqLen: recipe.batch.maxSeqLen, format, eosId: lm.eosId });
const trainerOptions = {
  lora: { r: 8, alpha: 32, dropout: 0, targetModules: recipe.lora.targets },
  microBatches: recipe.batch.gradAccumulation,
  trainProjector: true,
  seed: 0,
};

async function runLoop(): Promise<{
  seconds: number;
  tokens: number;
  first: number;
  last: number;
  steps: number;
}> {
  const trainer = await lm.trainer(trainerOptions);
  const t0 = performance.now();
  const run = await train({ recipe, examples, engine: lmTrainerEngine(trainer), encode, padId: 0 });
  const seconds = (performance.now() - t0) / 1000;
  await trainer.release();
  const h = run.history;
  return {
    seconds,
    tokens: h.reduce((s, x) => s + x.tokens, 0),
    first: h[0].loss,
    last: h[h.length - 1].loss,
    steps: run.steps,
  };
}

// the peer: the same micro-batches, encoded beforehand, straight into LmTrainer.step
const batches = [...new DataIterator(recipe, { ER: examples.ER, ECPE: examples.ECPE })].map((b) => {
  const c = collate(
    b.items.map((it) => encode(it.example)),
    b.items.map(() => 1),
    0,
  );
  const lengths = c.attentionMask.map((m) => m.reduce((x, y) => x + y, 0));
  return {
    batch: {
      inputIds: c.inputIds.map((r, i) => r.slice(0, lengths[i])),
      labels: c.labels.map((r, i) => r.slice(0, lengths[i])),
      normalize: 'examples' as const,
    },
    apply: b.endsStep,
    tokens: c.tokens,
  };
});
async function runDirect(): Promise<{ seconds: number; tokens: number }> {
  const trainer = await lm.trainer(trainerOptions);
  const t0 = performance.now();
  for (const b of batches) await trainer.step(b.batch, { lr: 1e-3, apply: b.apply });
  const seconds = (performance.now() - t0) / 1000;
  await trainer.release();
  return { seconds, tokens: batches.reduce((s, b) => s + b.tokens, 0) };
}

// alternate the two (the machine is shared) and keep each one's best round
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
let loop: Awaited<ReturnType<typeof runLoop>> | undefined;
let direct: Awaited<ReturnType<typeof runDirect>> | undefined;
for (let r = 0; r < rounds; r++) {
  const d = await runDirect();
  if (!direct || d.seconds < direct.seconds) direct = d;
  const l = await runLoop();
  if (!loop || l.seconds < loop.seconds) loop = l;
}
if (!loop || !direct) throw new Error('BENCH_ROUNDS must be at least 1');
const loopSeconds = loop.seconds;
const loopTokens = loop.tokens;
const directSeconds = direct.seconds;
const directTokens = direct.tokens;
const run = { steps: loop.steps };
const loopRate = loopTokens / loopSeconds;
const directRate = directTokens / directSeconds;
const model = lm.llm.config;
console.log(
  `emoverse-nano (${model.numLayers} x ${model.hiddenSize}, vocab ${lm.tokenizer.vocabSize}), LoRA r=8 + projector, CPU`,
);
console.log(
  `${run.steps} optimizer steps, ${batches.length} micro-batches of ${recipe.batch.size}, ${loopTokens} tokens`,
);
console.log(
  `M2SE loop     : ${loopRate.toFixed(0)} tokens/s (${loopSeconds.toFixed(2)} s; best of ${rounds})`,
);
console.log(
  `LmTrainer.step: ${directRate.toFixed(0)} tokens/s (${directSeconds.toFixed(2)} s; best of ${rounds})`,
);
console.log(
  `ratio loop / direct: ${(loopRate / directRate).toFixed(3)} (tokens: ${loopTokens} / ${directTokens})`,
);
console.log(`loss ${loop.first.toFixed(3)} -> ${loop.last.toFixed(3)}`);
