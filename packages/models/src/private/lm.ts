// A decoder LM loaded from a Hugging Face folder, and the ONNX graphs built from it:
// forward (optionally with KV cache and LoRA), and the loss head a train step wraps.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, type Tensor } from '@emoverse/onnx';
import { Checkpoint } from '@emoverse/safetensors';
import { ConfigError, type DecoderConfig, parseConfig } from './config.js';
import { type DecoderArchitecture, decoderStack, embedTokens, lmHead } from './decoder.js';
import { DROPOUT_SEED } from './dropout.js';
import type { Ctx, KvPast } from './layers.js';
import { llama } from './llama.js';
import { type LoraInGraph, loraBinder } from './lora.js';
import { phi3 } from './phi3.js';
import { qwen2 } from './qwen2.js';
import {
  checkpointSource,
  checkWeights,
  ParamBinder,
  type WeightSource,
  type WeightSpec,
} from './weights.js';

export const DECODER_ARCHITECTURES: Record<DecoderConfig['arch'], DecoderArchitecture> = {
  llama,
  phi3,
  qwen2,
};

export class DecoderModel {
  readonly arch: DecoderArchitecture;
  readonly spec: WeightSpec;

  constructor(
    readonly config: DecoderConfig,
    readonly weights: WeightSource,
    readonly name: string = config.arch,
  ) {
    this.arch = DECODER_ARCHITECTURES[config.arch];
    this.spec = this.arch.weightSpec(config);
    checkWeights(this.spec, weights, name);
  }

  /** config.json + safetensors (single or sharded); fails naming the tensor before any compute. */
  static fromDir(dir: string): DecoderModel {
    const config = parseConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
    if (config.kind !== 'decoder')
      throw new ConfigError(`${dir}: config.json describes a ${config.arch} vision model, not a decoder`);
    const ck = Checkpoint.open(dir);
    const m = new DecoderModel(config, checkpointSource(ck), dir);
    let bytes = 0;
    for (const n of ck.names()) bytes += ck.info(n).end - ck.info(n).begin;
    m.weightsInFiles = bytes >= 256 * 2 ** 20;
    return m;
  }

  /** Inference graphs leave fp32 weights in the checkpoint files for ORT to read (see LmGraphOptions). */
  weightsInFiles = false;

  /** Linear modules LoRA may adapt: path -> [out, in]. */
  linearModules(): Map<string, [number, number]> {
    return this.arch.linearModules(this.config);
  }
}

export interface LmGraphOptions {
  /**
   * past_key_values.<i>.key/value inputs and present.<i>.key/value outputs. 'slots': the decode
   * graph of continuous batching, over a cache the caller updates in place (keys [batch, kv_heads,
   * head_dim, past], values [batch, kv_heads, past, head_dim]; one new token per row; present holds
   * only the new token's K/V).
   */
  cache?: boolean | 'slots';
  /** 'last' returns only the last position's logits [B, 1, V] (generation) */
  logits?: 'all' | 'last' | 'none';
  lora?: LoraInGraph;
  /** full fine-tuning: these base parameters become trainable inputs */
  trainableBase?: (name: string) => boolean;
  /** replaces the token embedding step (EmoVerse puts visual tokens in here) */
  embed?: (ctx: Ctx, inputIds: Tensor) => Tensor;
  /** adds labels/token_weights inputs and loss/token_loss outputs */
  loss?: boolean;
  /** applies LoRA dropout (then the graph takes a `dropout_seed` int64 scalar input) */
  training?: boolean;
  name?: string;
  /** parameter tensors made by the caller (a train step's inputs), by name */
  provided?: Readonly<Record<string, Tensor>>;
  /**
   * Frozen fp32 weights stay in their safetensors files and ORT reads them from there (no copy
   * in JS). Default: the model's own setting (on for checkpoints of 256 MB or more).
   */
  weightsInFiles?: boolean;
}

export interface LmGraph {
  g: GraphBuilder;
  /** the weighted loss and per-token losses when opts.loss */
  loss?: Tensor;
  tokenLoss?: Tensor;
  /** graph inputs that are trainable parameters (base and LoRA), name and shape */
  trainable: { name: string; shape: number[] }[];
  ctx: Ctx;
}

/**
 * Graph inputs: input_ids [batch, seq] int64, position_ids [batch, seq] int64,
 * attention_bias [batch, 1, 1, seq, total] float (see masks.ts), and with cache
 * past_key_values.<i>.key/value [batch, kv_heads, past, head_dim].
 * Outputs: logits, present.<i>.key/value, and with loss: loss (scalar) and token_loss [batch, seq].
 */
export function buildLmGraph(model: DecoderModel, opts: LmGraphOptions = {}): LmGraph {
  const g = new GraphBuilder(opts.name ?? `${model.config.arch}-lm`);
  const r = buildLm(g, model, opts);
  if (r.loss) g.output(r.loss, 'loss');
  if (r.tokenLoss) g.output(r.tokenLoss, 'token_loss');
  return r;
}

/** The same graph into an existing builder (a train step's); loss outputs are left to the caller. */
export function buildLm(g: GraphBuilder, model: DecoderModel, opts: LmGraphOptions = {}): LmGraph {
  const c = model.config;
  const provided = opts.provided ?? {};
  const inFiles = opts.weightsInFiles ?? model.weightsInFiles;
  const p = new ParamBinder(g, model.spec, model.weights, opts.trainableBase, provided, inFiles);
  const lora = opts.lora ? loraBinder(g, model, opts.lora, provided) : undefined;
  let seed: Tensor | undefined;
  const dropoutSeed = () => {
    seed ??= g.input(DROPOUT_SEED, 'int64', []);
    return seed;
  };
  const ctx: Ctx = { g, p, lora: lora?.branch, training: opts.training ?? false, dropoutSeed };
  const seq = opts.cache === 'slots' ? 1 : 'seq'; // the slots graph decodes one token per row
  const inputIds = g.input('input_ids', 'int64', ['batch', seq]);
  const positionIds = g.input('position_ids', 'int64', ['batch', seq]);
  const embeds = opts.embed ? opts.embed(ctx, inputIds) : embedTokens(ctx, inputIds);
  let past: KvPast[] | undefined;
  if (opts.cache) {
    past = [];
    const slots = opts.cache === 'slots';
    for (let i = 0; i < c.numLayers; i++) {
      const shape = ['batch', c.numKvHeads, 'past', c.headDim];
      const keyShape = slots ? ['batch', c.numKvHeads, c.headDim, 'past'] : shape;
      past.push({
        key: g.input(`past_key_values.${i}.key`, 'float32', keyShape),
        value: g.input(`past_key_values.${i}.value`, 'float32', shape),
      });
    }
  }
  const { hidden, presents } = decoderStack(ctx, c, model.arch, {
    embeds,
    positionIds,
    past,
    pastLayout: opts.cache === 'slots' ? 'slots' : 'concat',
    bias: (T) => g.input('attention_bias', 'float32', ['batch', 1, 1, seq, T]),
  });
  const mode = opts.logits ?? 'all';
  let losses: { loss: Tensor; tokenLoss: Tensor } | undefined;
  if (mode !== 'none' || opts.loss) {
    const h = mode === 'last' ? g.slice(hidden, [-1], [Number.MAX_SAFE_INTEGER], [1]) : hidden;
    const logits = lmHead(ctx, c, h);
    if (mode !== 'none') g.output(logits, 'logits');
    if (opts.loss) losses = lossHead(g, mode === 'all' ? logits : lmHead(ctx, c, hidden), c.vocabSize);
  }
  if (opts.cache) {
    presents.forEach((pr, i) => {
      g.output(pr.key, `present.${i}.key`);
      g.output(pr.value, `present.${i}.value`);
    });
  }
  return { g, trainable: [...p.trainableInputs, ...(lora?.inputs ?? [])], ctx, ...losses };
}

/**
 * Causal-LM loss with per-token weights. labels [batch, seq] are already shifted (label at t
 * is the token t+1; -100 = ignore), token_weights [batch, seq] weigh each token's cross-entropy.
 * With weights 1/N on the N counted tokens this is transformers' mean loss; per-example or
 * per-task weights (M2SE's dynamic task weighting) are the same input with other values.
 */
function lossHead(g: GraphBuilder, logits: Tensor, vocab: number): { loss: Tensor; tokenLoss: Tensor } {
  const labels = g.input('labels', 'int64', ['batch', 'seq']);
  const weights = g.input('token_weights', 'float32', ['batch', 'seq']);
  const flat = g.reshape(logits, [-1, vocab]);
  const tokenLoss = g.softmaxCrossEntropyLoss(flat, g.reshape(labels, [-1]), {
    ignoreIndex: -100,
    reduction: 'none',
  });
  const perToken = g.reshape(tokenLoss, [-1]);
  const loss = g.sumAll(g.mul(perToken, g.reshape(weights, [-1])));
  return { loss, tokenLoss: g.reshape(perToken, g.shapeOf(labels), labels.shape) };
}
