// The high-level model the trainer and the gateway use: an LLM (optionally composed with visual
// tokens as EmoVerse), its tokenizer and chat template, and the four things done with it:
// make training batches, train (train.ts), score candidate labels, generate.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Checkpoint, writeSafetensors } from '@emoverse/safetensors';
import { lossFeeds, type TextBatch, visualFeeds } from './batch.js';
import { trainByteLevelBpe } from './bpe.js';
import { ConfigError, type DecoderConfig, parseConfig } from './config.js';
import type { DecodeLoop, DecodeLoopOptions, DecodeLoopStats, SequenceResult } from './continuous.js';
import { EmoVerseModel, type VisualEncoder } from './emoverse.js';
import { type GenerateOptions, Generator } from './generate.js';
import { preprocessImage, type RgbImage } from './image.js';
import { buildLmGraph, DecoderModel } from './lm.js';
import { mergeLora } from './lora.js';
import type { LoraAdapter } from './peft.js';
import {
  decoderSpec,
  NANO_CHAT_TEMPLATE,
  NANO_SPECIAL_TOKENS,
  type NanoSize,
  nanoPreset,
  normalInit,
  randomWeights,
} from './presets.js';
import { seededRandom } from './sampling.js';
import { GraphSession, type SessionOptions } from './session.js';
import { type ChatMessage, TextTokenizer } from './tokenizer.js';
import { LmTrainer, type TrainOptions } from './train.js';
import { TreeScorer } from './tree-scorer.js';
import { VisionModel } from './vision.js';
import { checkpointSource, mapSource, type WeightSource } from './weights.js';

/** Settings of a model's continuous-batching loop (continuous.ts). */
export type GenerationLoopOptions = Pick<DecodeLoopOptions, 'maxSequences' | 'memoryBytes' | 'prefixCache'>;

/** 16 sequences and 256 MiB of cache: far more than emoverse-nano needs, a start for larger models. */
export const DEFAULT_LOOP: GenerationLoopOptions = {
  maxSequences: 16,
  memoryBytes: 256 * 2 ** 20,
  prefixCache: true,
};

/** A prefix-cache namespace for prompts with these visual tokens. */
function visualDigest(visual: Float32Array): string {
  return `visual:${createHash('sha256')
    .update(new Uint8Array(visual.buffer, visual.byteOffset, visual.byteLength))
    .digest('base64')}`;
}

export interface Example {
  /** chat messages, rendered with the chat template (a generation prompt is added) */
  messages?: ChatMessage[];
  /** or a raw prompt string, used as is */
  prompt?: string;
  /** or the prompt's token ids, used as is (visual placeholders are still added) */
  promptIds?: readonly number[];
  /** T_v of this example, [visualTokens, D_v] row-major (EmoVerse only) */
  visual?: Float32Array;
}

export interface TrainExample extends Example {
  /** the target text the model learns to produce after the prompt (an eos is appended) */
  answer: string;
  /** per-example loss weight (M2SE task weight); default 1 */
  weight?: number;
}

export interface ScoreResult {
  /** log p(candidate | prompt) summed over the candidate's tokens (and eos), per example per candidate */
  logLikelihood: number[][];
  /** the same divided by the number of scored tokens */
  meanLogLikelihood: number[][];
  /** index of the best candidate per example (by summed log-likelihood) */
  best: number[];
  /** softmax of the summed log-likelihoods over the candidates: p(candidate | prompt, one of these) */
  probabilities: number[][];
}

interface Manifest {
  format: 'emoverse-lm/1';
  encoder: { kind: 'face-features'; dim: number } | { kind: 'vit'; path: string } | { kind: 'none' };
  imageToken?: string;
  visualTokens?: number;
  preset?: string;
  /** tokens of prompt + answer the model was tuned with (EmoVerseLMParts.contextLength) */
  contextLength?: number;
}

/** What an EmoVerseLM is made of. */
export interface EmoVerseLMParts {
  llm: DecoderModel;
  tokenizer: TextTokenizer;
  /** present when the model takes visual tokens */
  emoverse?: EmoVerseModel;
  /** visual tokens per example (placeholders per prompt); 0 for text-only models */
  visualTokens?: number;
  preset?: string;
  sessionOptions?: SessionOptions;
  /**
   * Tokens of prompt + answer the model was tuned with (the recipe's maxSeqLen); serving cuts
   * prompts to it as training did. Default: the decoder's positions.
   */
  contextLength?: number;
}

export class EmoVerseLM {
  private scoreSession?: GraphSession;
  private treeScorer?: Promise<TreeScorer>;
  private generator?: Generator;
  private loop?: DecodeLoop;
  private loopStart?: Promise<DecodeLoop>;
  readonly llm: DecoderModel;
  readonly tokenizer: TextTokenizer;
  readonly emoverse?: EmoVerseModel;
  readonly visualTokens: number;
  readonly preset?: string;
  readonly sessionOptions: SessionOptions;
  readonly contextLength: number;

  constructor(parts: EmoVerseLMParts) {
    this.llm = parts.llm;
    this.tokenizer = parts.tokenizer;
    this.emoverse = parts.emoverse;
    this.visualTokens = parts.visualTokens ?? 0;
    this.preset = parts.preset;
    this.sessionOptions = parts.sessionOptions ?? {};
    this.contextLength = Math.min(parts.contextLength ?? Infinity, this.llm.config.maxPositions);
    if (this.tokenizer.vocabSize > this.llm.config.vocabSize) {
      throw new ConfigError(
        `tokenizer has ${this.tokenizer.vocabSize} tokens but the model's vocab_size is ${this.llm.config.vocabSize}`,
      );
    }
  }

  /** The parts of this model, to make a changed copy: new EmoVerseLM({ ...lm.parts, llm }). */
  get parts(): EmoVerseLMParts {
    return {
      llm: this.llm,
      tokenizer: this.tokenizer,
      emoverse: this.emoverse,
      visualTokens: this.visualTokens,
      preset: this.preset,
      sessionOptions: this.sessionOptions,
      contextLength: this.contextLength,
    };
  }

  /** A copy that cuts prompts to `tokens` (prompt + answer), as the recipe's maxSeqLen did in training. */
  withContextLength(tokens: number): EmoVerseLM {
    return new EmoVerseLM({ ...this.parts, contextLength: tokens });
  }

  /**
   * A fresh emoverse-nano: a byte-level BPE vocabulary trained on `corpus` (or the given
   * tokenizer), random weights (seeded), face-feature visual tokens (one per sampled frame).
   */
  static createNano(
    o: {
      corpus?: readonly string[];
      tokenizer?: TextTokenizer;
      vocabSize?: number;
      frames?: number;
      /** the decoder's shape (NANO_SIZE by default) */
      size?: NanoSize;
      seed?: number;
    } = {},
  ): EmoVerseLM {
    const tokenizer =
      o.tokenizer ??
      new TextTokenizer(
        trainByteLevelBpe(o.corpus ?? [], {
          vocabSize: o.vocabSize ?? 1024,
          specialTokens: NANO_SPECIAL_TOKENS,
        }),
        { bos_token: '<|bos|>', eos_token: '<|eos|>', pad_token: '<|pad|>' },
        NANO_CHAT_TEMPLATE,
      );
    const preset = nanoPreset(tokenizer.vocabSize, o.frames ?? 8, o.size);
    const cfg = parseConfig(preset.llm) as DecoderConfig;
    const llm = new DecoderModel(cfg, randomWeights(decoderSpec(cfg), o.seed ?? 0), 'emoverse-nano');
    const dim = (preset.encoder as { dim: number }).dim;
    const random = seededRandom((o.seed ?? 0) + 1);
    const projector = mapSource(
      new Map([
        [
          'projector.weight',
          { shape: [cfg.hiddenSize, dim], data: normalInit(cfg.hiddenSize * dim, 0.02, random) },
        ],
        ['projector.bias', { shape: [cfg.hiddenSize], data: new Float32Array(cfg.hiddenSize) }],
      ]),
    );
    const imageTokenId = tokenizer.tokenId(preset.imageToken);
    if (imageTokenId === undefined) throw new ConfigError(`tokenizer has no ${preset.imageToken} token`);
    const emoverse = new EmoVerseModel({
      llm,
      encoder: { kind: 'face-features', dim },
      projector,
      imageTokenId,
    });
    return new EmoVerseLM({
      llm,
      tokenizer,
      emoverse,
      visualTokens: preset.visualTokens,
      preset: preset.name,
    });
  }

  /**
   * Loads a folder written by save(), or a plain HF decoder folder (config.json, safetensors,
   * tokenizer.json) as a text-only model.
   */
  static load(dir: string, sessionOptions: SessionOptions = {}): EmoVerseLM {
    const manifestPath = join(dir, 'emoverse.json');
    const tokenizer = TextTokenizer.fromDir(dir);
    if (!existsSync(manifestPath))
      return new EmoVerseLM({ llm: DecoderModel.fromDir(dir), tokenizer, sessionOptions });
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    const llm = DecoderModel.fromDir(join(dir, 'llm'));
    const contextLength = m.contextLength;
    if (m.encoder.kind === 'none')
      return new EmoVerseLM({ llm, tokenizer, preset: m.preset, sessionOptions, contextLength });
    const encoder: VisualEncoder =
      m.encoder.kind === 'vit'
        ? { kind: 'vit', tower: VisionModel.fromDir(join(dir, m.encoder.path)) }
        : m.encoder;
    const imageTokenId = tokenizer.tokenId(m.imageToken ?? '<|image|>');
    if (imageTokenId === undefined) throw new ConfigError(`${dir}: tokenizer has no ${m.imageToken} token`);
    const projector = checkpointSource(Checkpoint.open(join(dir, 'projector.safetensors')));
    const emoverse = new EmoVerseModel({ llm, encoder, projector, imageTokenId });
    return new EmoVerseLM({
      llm,
      tokenizer,
      emoverse,
      visualTokens: m.visualTokens ?? 0,
      preset: m.preset,
      sessionOptions,
      contextLength,
    });
  }

  /** Writes llm/ (HF config.json + model.safetensors), projector, tokenizer and emoverse.json. */
  save(dir: string): void {
    mkdirSync(join(dir, 'llm'), { recursive: true });
    const c = this.llm.config;
    writeFileSync(join(dir, 'llm', 'config.json'), `${JSON.stringify(hfConfig(c), null, 2)}\n`);
    writeSafetensors(
      join(dir, 'llm', 'model.safetensors'),
      tensorsOf(this.llm.spec.keys(), this.llm.weights),
      { format: 'pt' },
    );
    const tok = this.tokenizer;
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok.json));
    writeFileSync(
      join(dir, 'tokenizer_config.json'),
      `${JSON.stringify({ ...tok.config, chat_template: tok.chatTemplate }, null, 2)}\n`,
    );
    const e = this.emoverse;
    let encoder: Manifest['encoder'] = { kind: 'none' };
    if (e) {
      writeSafetensors(join(dir, 'projector.safetensors'), tensorsOf(e.projectorSpec.keys(), e.projector), {
        format: 'pt',
      });
      if (e.encoder.kind === 'vit')
        throw new Error('save: ViT encoders are saved by their own HF folder; point emoverse.json at it');
      encoder = e.encoder;
    }
    const manifest: Manifest = {
      format: 'emoverse-lm/1',
      encoder,
      imageToken: e ? tok.idToToken(e.imageTokenId) : undefined,
      visualTokens: this.visualTokens,
      preset: this.preset,
      contextLength: this.contextLength < this.llm.config.maxPositions ? this.contextLength : undefined,
    };
    writeFileSync(join(dir, 'emoverse.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }

  /** A copy whose weights are replaced by `values` (trained base / projector parameters by HF name). */
  withParameters(values: ReadonlyMap<string, Float32Array>): EmoVerseLM {
    const overlay = (src: WeightSource): WeightSource => ({
      has: (n) => src.has(n),
      shape: (n) => src.shape(n),
      readF32: (n) => values.get(n) ?? src.readF32(n),
    });
    const llm = new DecoderModel(this.llm.config, overlay(this.llm.weights), this.llm.name);
    const e = this.emoverse;
    const emoverse = e
      ? new EmoVerseModel({
          llm,
          encoder: e.encoder,
          projector: overlay(e.projector),
          imageTokenId: e.imageTokenId,
        })
      : undefined;
    return new EmoVerseLM({ ...this.parts, llm, emoverse });
  }

  /** A copy with a LoRA adapter merged into the base weights (for serving). */
  withAdapter(adapter: LoraAdapter): EmoVerseLM {
    const llm = new DecoderModel(this.llm.config, mergeLora(this.llm.weights, adapter), this.llm.name);
    const e = this.emoverse;
    const emoverse = e
      ? new EmoVerseModel({ llm, encoder: e.encoder, projector: e.projector, imageTokenId: e.imageTokenId })
      : undefined;
    return new EmoVerseLM({ ...this.parts, llm, emoverse });
  }

  /**
   * Prompt token ids: the chat template (or raw prompt), with the visual tokens' placeholders:
   * a single image token in the text becomes visualTokens placeholders; with visual input and
   * no image token, the placeholders go first (the layout of the paper's eq. 6).
   */
  encodePrompt(ex: Example): number[] {
    const ids = ex.promptIds
      ? [...ex.promptIds]
      : this.tokenizer.encode(
          ex.prompt ?? this.tokenizer.applyChatTemplate(ex.messages ?? [], { addGenerationPrompt: true }),
          { addSpecialTokens: false },
        );
    const e = this.emoverse;
    if (!e) return ids;
    const img = e.imageTokenId;
    const count = ids.filter((t) => t === img).length;
    if (!ex.visual) {
      if (count) throw new Error('prompt has an image token but the example has no visual features');
      return ids;
    }
    const n = this.visualTokens;
    if (ex.visual.length !== n * e.visualDim) {
      throw new Error(
        `visual features hold ${ex.visual.length} values; expected ${n} tokens x ${e.visualDim}`,
      );
    }
    if (count === 0) return [...Array(n).fill(img), ...ids];
    if (count === n) return ids;
    if (count !== 1)
      throw new Error(`prompt holds ${count} image tokens; use one (expanded to ${n}) or exactly ${n}`);
    return ids.flatMap((t) => (t === img ? Array(n).fill(img) : [t]));
  }

  /**
   * T_v of one image through the model's ViT (resized and normalised as its image processor
   * says), ready for Example.visual. Face-feature models take frame features instead.
   */
  async visualFromImage(img: RgbImage): Promise<Float32Array> {
    const e = this.emoverse;
    if (e?.encoder.kind !== 'vit') throw new Error('visualFromImage needs a model with a ViT encoder');
    const tower = e.encoder.tower;
    const px = preprocessImage(img, tower.imageProcessor);
    const tv = await e.encodeImages(px, 1);
    if (tv.dims[1] !== this.visualTokens) {
      throw new Error(
        `the tower gives ${tv.dims[1]} visual tokens but the model expects ${this.visualTokens}`,
      );
    }
    return tv.data;
  }

  /** Stacked T_v for a batch ([examples, N, D_v]); rows without visual input get zeros. */
  private visualBatch(examples: readonly Example[]): TextBatch['visualFeatures'] {
    const e = this.emoverse;
    if (!e || !examples.some((x) => x.visual)) return undefined;
    const n = this.visualTokens;
    const data = new Float32Array(examples.length * n * e.visualDim);
    examples.forEach((x, b) => {
      if (x.visual) data.set(x.visual, b * n * e.visualDim);
    });
    return { data, dims: [examples.length, n, e.visualDim] };
  }

  get eosId(): number {
    return this.llm.config.eosTokenIds[0] ?? 0;
  }

  /** Training batch: prompt tokens are not trained on (-100), the answer and its eos are. */
  trainBatch(examples: readonly TrainExample[], normalize: TextBatch['normalize'] = 'tokens'): TextBatch {
    const inputIds: number[][] = [];
    const labels: number[][] = [];
    for (const ex of examples) {
      const prompt = this.encodePrompt(ex);
      const answer = [...this.tokenizer.encode(ex.answer, { addSpecialTokens: false }), this.eosId];
      inputIds.push([...prompt, ...answer]);
      labels.push([...prompt.map(() => -100), ...answer]);
    }
    return {
      inputIds,
      labels,
      visualFeatures: this.visualBatch(examples),
      exampleWeights: examples.map((x) => x.weight ?? 1),
      normalize,
    };
  }

  /** A trainer for this model (LoRA by default; trainBase for from-scratch training). */
  trainer(o: TrainOptions = {}): Promise<LmTrainer> {
    return LmTrainer.create(this.emoverse ?? this.llm, {
      ...o,
      session: { ...this.sessionOptions, ...o.session },
    });
  }

  /**
   * The model as trained so far by `trainer` (made by this.trainer()): its trained base and
   * projector values applied, and its LoRA adapter merged into the base (for serving or saving).
   */
  async withTrained(trainer: LmTrainer): Promise<EmoVerseLM> {
    const params = await trainer.parameters();
    const plain = new Map([...params].filter(([n]) => !/\.lora_[AB]\.weight$/.test(n)));
    const updated = this.withParameters(plain);
    return trainer.train.adapter ? updated.withAdapter(await trainer.adapter()) : updated;
  }

  /**
   * Constrained classification: the log-likelihood of each candidate label string after each
   * prompt (all candidates of all examples in one batch).
   */
  async score(
    examples: readonly Example[],
    candidates: readonly string[],
    o: { eos?: boolean } = {},
  ): Promise<ScoreResult> {
    const cands = candidates.map((c) => [
      ...this.tokenizer.encode(c, { addSpecialTokens: false }),
      ...(o.eos === false ? [] : [this.eosId]),
    ]);
    const rowsEx: Example[] = [];
    const inputIds: number[][] = [];
    const labels: number[][] = [];
    for (const ex of examples) {
      const prompt = this.encodePrompt(ex);
      for (const c of cands) {
        rowsEx.push(ex);
        inputIds.push([...prompt, ...c]);
        labels.push([...prompt.map(() => -100), ...c]);
      }
    }
    if (!this.scoreSession) {
      const hook = this.emoverse?.embedHook();
      const { g } = buildLmGraph(this.llm, { loss: true, logits: 'none', embed: hook?.embed, name: 'score' });
      this.scoreSession = await GraphSession.create(g, this.sessionOptions);
    }
    const batch: TextBatch = { inputIds, labels, visualFeatures: this.visualBatch(rowsEx) };
    const { feeds, targets } = lossFeeds(batch, this.llm.config.padTokenId ?? 0, this.emoverse);
    const out = await this.scoreSession.run(feeds, ['token_loss']);
    const tl = out.token_loss.data as Float32Array;
    const S = targets.labels[0].length;
    const ll: number[][] = [];
    const mean: number[][] = [];
    examples.forEach((_, i) => {
      ll.push([]);
      mean.push([]);
      cands.forEach((c, j) => {
        const r = i * cands.length + j;
        let s = 0;
        for (let t = 0; t < S; t++) if (targets.labels[r][t] !== -100) s -= tl[r * S + t];
        ll[i].push(s);
        mean[i].push(s / c.length);
      });
    });
    const best = ll.map((row) => row.indexOf(Math.max(...row)));
    const probabilities = ll.map((row) => {
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / z);
    });
    return { logLikelihood: ll, meanLogLikelihood: mean, best, probabilities };
  }

  /**
   * The same log-likelihoods as score().logLikelihood (candidates closed by eos), with each prompt
   * run once and the candidates as branches after it (tree-scorer.ts): the serving path.
   */
  async scoreShared(examples: readonly Example[], candidates: readonly string[]): Promise<number[][]> {
    this.treeScorer ??= TreeScorer.create(this);
    return (await this.treeScorer).score(examples, candidates);
  }

  /** Text generation (batched, KV cache); returns the generated text per example. */
  async generate(
    examples: readonly Example[],
    o: Partial<GenerateOptions> = {},
  ): Promise<{ text: string[]; tokens: number[][] }> {
    const e = this.emoverse;
    if (!this.generator) {
      this.generator = await Generator.create(this.llm, {
        embed: e?.embedHook().embed,
        session: this.sessionOptions,
      });
    }
    const prompts = examples.map((x) => this.encodePrompt(x));
    const visual = this.visualBatch(examples);
    // decode steps carry no image placeholders: one zero visual token that nothing reads
    const extra = e
      ? (phase: 'prefill' | 'decode', ids: number[][]) =>
          visualFeeds(e, ids, phase === 'prefill' ? visual : undefined)
      : undefined;
    const r = await this.generator.generate(
      prompts,
      {
        maxNewTokens: 32,
        ...o,
        decode: (ids) => this.tokenizer.decode(ids),
        suppressTokens: [...(o.suppressTokens ?? []), ...(e ? [e.imageTokenId] : [])],
      },
      extra,
    );
    return { text: r.text!, tokens: r.tokens };
  }

  /**
   * One example through the continuous-batching loop (continuous.ts): it joins the sequences being
   * decoded at the next step and leaves when it ends. The loop is made on first use with `loop`'s
   * settings. Prompts are cached by prefix; a prompt with visual tokens only shares a prefix with
   * prompts that have the same visual tokens (they come first: X = [W_v T_v ; T_t]).
   */
  async generateOne(
    example: Example,
    o: Partial<GenerateOptions> & { signal?: AbortSignal; onToken?: (token: number) => void },
    loop: GenerationLoopOptions = DEFAULT_LOOP,
  ): Promise<SequenceResult & { text: string }> {
    const decodeLoop = await this.decodeLoop(loop);
    const prompt = this.encodePrompt(example);
    const r = await decodeLoop.submit({
      prompt,
      options: {
        maxNewTokens: 32,
        ...o,
        eosTokenIds: o.eosTokenIds ?? this.llm.config.eosTokenIds,
        decode: (ids) => this.tokenizer.decode(ids),
        suppressTokens: [...(o.suppressTokens ?? []), ...(this.emoverse ? [this.emoverse.imageTokenId] : [])],
      },
      namespace: example.visual ? visualDigest(example.visual) : 'text',
      prefillExtra: this.emoverse && ((ids) => this.prefillVisual(ids, example.visual)),
      onToken: o.onToken,
      signal: o.signal,
    });
    return { ...r, text: r.text ?? '' };
  }

  /** The loop's live counts and prefix-cache hits (undefined before the first generateOne). */
  generationStats(): DecodeLoopStats | undefined {
    return this.loop?.stats();
  }

  private decodeLoop(o: GenerationLoopOptions): Promise<DecodeLoop> {
    this.loopStart ??= (async () => {
      const e = this.emoverse;
      this.generator ??= await Generator.create(this.llm, {
        embed: e?.embedHook().embed,
        session: this.sessionOptions,
      });
      this.loop = await this.generator.decodeLoop({
        ...o,
        decodeExtra:
          e &&
          ((rows) =>
            visualFeeds(
              e,
              Array.from({ length: rows }, () => [0]),
              undefined,
            )),
      });
      return this.loop;
    })();
    return this.loopStart;
  }

  /** Prefill feeds for the ids past a cached prefix: the image placeholders left there take the last visual tokens. */
  private prefillVisual(ids: number[], visual: Float32Array | undefined) {
    const e = this.emoverse!;
    const left = ids.filter((t) => t === e.imageTokenId).length;
    if (!left || !visual) return visualFeeds(e, [ids], undefined);
    const data = visual.subarray(visual.length - left * e.visualDim);
    return visualFeeds(e, [ids], { data, dims: [1, left, e.visualDim] });
  }

  async release(): Promise<void> {
    this.loop = undefined;
    this.loopStart = undefined;
    await this.scoreSession?.release();
    await (await this.treeScorer)?.release();
    await this.generator?.release();
    await this.emoverse?.release();
    this.scoreSession = undefined;
    this.treeScorer = undefined;
    this.generator = undefined;
  }
}

function tensorsOf(names: Iterable<string>, src: WeightSource) {
  const out: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const n of names) out[n] = { dtype: 'F32', shape: src.shape(n), data: src.readF32(n) };
  return out;
}

/** Our config back as an HF config.json (Llama/Phi-3/Qwen2 field names). */
export function hfConfig(c: DecoderConfig): Record<string, unknown> {
  const arch = { llama: 'LlamaForCausalLM', phi3: 'Phi3ForCausalLM', qwen2: 'Qwen2ForCausalLM' }[c.arch];
  return {
    architectures: [arch],
    model_type: c.arch,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.rmsNormEps,
    rope_parameters: {
      rope_type: 'default',
      rope_theta: c.ropeTheta,
      ...(c.rotaryFraction !== 1 ? { partial_rotary_factor: c.rotaryFraction } : {}),
    },
    hidden_act: 'silu',
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: c.arch === 'llama' ? c.qkvBias : undefined,
    mlp_bias: c.arch === 'llama' ? c.mlpBias : undefined,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds,
    pad_token_id: c.padTokenId,
    torch_dtype: 'float32',
  };
}
