// Batched generation with a KV cache. One graph serves prefill (past length 0, the whole prompt)
// and decode (one new token per row, the cache fed back in). Prompts are left-padded so that
// every row's next token lands in the same column; the attention bias hides the pads and the
// position ids count only real tokens, so a padded row computes exactly what it would alone.
import type { Tensor } from '@emoverse/onnx';
import { DecodeLoop, type DecodeLoopOptions } from './continuous.js';
import { RowDecoder } from './decode-row.js';
import type { Ctx } from './layers.js';
import { buildLmGraph, type DecoderModel } from './lm.js';
import type { LoraInGraph } from './lora.js';
import { causalBias } from './masks.js';
import { type SamplingOptions, seededRandom } from './sampling.js';
import { type Feeds, f32, GraphSession, i64, type ort, type SessionOptions } from './session.js';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed?: number;
  /** stop a row when it emits one of these (default: the config's eos ids; [] = never) */
  eosTokenIds?: number[];
  /** stop a row when its generated text contains one of these (needs `decode`) */
  stop?: string[];
  decode?: (ids: number[]) => string;
  /** never emit these (e.g. the image placeholder) */
  suppressTokens?: number[];
  /** called with each generated token of each row as soon as it is sampled (streaming) */
  onToken?: (row: number, token: number) => void;
}

export interface GenerateResult {
  /** generated ids per row (without the prompt), cut after eos / before a stop sequence */
  tokens: number[][];
  /** decoded text per row when `decode` was given (stop sequences removed) */
  text?: string[];
  finish: ('eos' | 'stop' | 'length')[];
  /** decode steps that ran (the prefill is not counted) */
  steps: number;
}

/** Extra per-run feeds for graphs with more inputs (EmoVerse visual tokens); `ids` are this run's input_ids. */
export type ExtraFeeds = (phase: 'prefill' | 'decode', ids: number[][]) => Feeds;

type GeneratorOptions = {
  lora?: LoraInGraph;
  embed?: (ctx: Ctx, ids: Tensor) => Tensor;
  session?: SessionOptions;
};

export class Generator {
  private slotSession?: GraphSession;

  private constructor(
    readonly model: DecoderModel,
    private readonly session: GraphSession,
    private readonly opts: GeneratorOptions,
  ) {}

  static async create(model: DecoderModel, opts: GeneratorOptions = {}): Promise<Generator> {
    return new Generator(
      model,
      await GraphSession.create(Generator.graph(model, opts, true), opts.session),
      opts,
    );
  }

  private static graph(model: DecoderModel, opts: GeneratorOptions, cache: true | 'slots') {
    return buildLmGraph(model, {
      cache,
      logits: 'last',
      lora: opts.lora,
      embed: opts.embed,
      name: cache === 'slots' ? 'decode-slots' : 'generate',
    }).g;
  }

  async generate(prompts: number[][], o: GenerateOptions, extra?: ExtraFeeds): Promise<GenerateResult> {
    const c = this.model.config;
    const B = prompts.length;
    const L = Math.max(...prompts.map((p) => p.length));
    if (L === 0) throw new Error('generate: every prompt is empty');
    const random = seededRandom(o.seed ?? 0);
    const pad = c.padTokenId ?? 0;
    const keyMask = prompts.map((p) => [...Array(L - p.length).fill(0), ...Array(p.length).fill(1)]);
    const ids = prompts.map((p) => [...Array(L - p.length).fill(pad), ...p]);
    const realCount = prompts.map((p) => p.length);
    const positions = keyMask.map((row) => {
      let n = 0;
      return row.map((m) => (m ? n++ : 0));
    });
    const kvShape = (T: number) => [B, c.numKvHeads, T, c.headDim];
    let feeds: Feeds = {
      input_ids: i64(ids.flat(), [B, L]),
      position_ids: i64(positions.flat(), [B, L]),
      attention_bias: f32(causalBias(keyMask, L), [B, 1, 1, L, L]),
      ...extra?.('prefill', ids),
    };
    for (let i = 0; i < c.numLayers; i++) {
      feeds[`past_key_values.${i}.key`] = f32(new Float32Array(0), kvShape(0));
      feeds[`past_key_values.${i}.value`] = f32(new Float32Array(0), kvShape(0));
    }
    // one seeded generator for the batch, drawn row after row (a seed reproduces a batch's samples)
    const rows = prompts.map(
      () => new RowDecoder({ ...o, eosTokenIds: o.eosTokenIds ?? c.eosTokenIds }, c.vocabSize, random),
    );
    let steps = 0;
    for (let t = 0; t < o.maxNewTokens; t++) {
      const out = await this.session.run(feeds);
      const logits = out.logits.data as Float32Array;
      const next: number[] = [];
      for (let b = 0; b < B; b++) {
        if (rows[b].done) {
          next.push(pad);
          continue;
        }
        const tok = rows[b].next(logits, b * c.vocabSize);
        next.push(tok);
        o.onToken?.(b, tok);
      }
      if (rows.every((r) => r.done) || t === o.maxNewTokens - 1) break;
      // the next decode step: one new column for every row
      for (let b = 0; b < B; b++) keyMask[b].push(1);
      const T = keyMask[0].length;
      feeds = {
        input_ids: i64(next, [B, 1]),
        position_ids: i64(
          realCount.map((n, b) => n + rows[b].tokens.length - 1),
          [B, 1],
        ),
        attention_bias: f32(causalBias(keyMask, 1), [B, 1, 1, 1, T]),
        ...extra?.(
          'decode',
          next.map((t) => [t]),
        ),
      };
      for (let i = 0; i < c.numLayers; i++) {
        feeds[`past_key_values.${i}.key`] = out[`present.${i}.key`] as ort.Tensor;
        feeds[`past_key_values.${i}.value`] = out[`present.${i}.value`] as ort.Tensor;
      }
      steps++;
    }
    const result: GenerateResult = {
      tokens: rows.map((r) => r.tokens),
      finish: rows.map((r) => r.finish ?? 'length'),
      steps,
    };
    if (o.decode) result.text = rows.map((r) => r.text());
    return result;
  }

  /**
   * A continuous-batching loop (continuous.ts): prompts are prefilled by this generator's graph,
   * decode steps run a second graph over the loop's in-place cache slots.
   */
  async decodeLoop(o: Omit<DecodeLoopOptions, 'vocabSize' | 'shape' | 'positions'>): Promise<DecodeLoop> {
    const c = this.model.config;
    this.slotSession ??= await GraphSession.create(
      Generator.graph(this.model, this.opts, 'slots'),
      this.opts.session,
    );
    return new DecodeLoop(
      { prefill: this.session, decode: this.slotSession },
      {
        ...o,
        vocabSize: c.vocabSize,
        positions: c.maxPositions,
        shape: { layers: c.numLayers, heads: c.numKvHeads, headDim: c.headDim },
      },
    );
  }

  async release(): Promise<void> {
    await this.slotSession?.release();
    await this.session.release();
  }
}
