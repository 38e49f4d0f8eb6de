// The EmoVerse composition (M2SE paper, eqs. 4-6): visual tokens T_v from a frozen encoder are
// carried into the LLM's embedding space by the linear projector W_v, and the LLM reads
// X = [W_v T_v ; T_t]. The architecture of the LLM is unchanged.
//
// Where the visual tokens go is set by an image placeholder token: the prompt holds one
// placeholder per visual token, and each is replaced, in order, by the next projected token.
// The fixture layout (all visual tokens first, then the text) is the prompt
// [<image> x N, text...]; any other placement is just another prompt.
//
// Two encoder kinds produce T_v [examples, N, D_v]:
// - 'vit': a SigLIP/CLIP tower on pixel_values (its own session; frozen);
// - 'face-features': per-frame face features from the vision pipeline (17 AU intensities,
//   7 expression probabilities, the face descriptor), one visual token per sampled frame.
// Either way the LM graph takes T_v as its `visual_features` input, so W_v can be trained.
import type { GraphBuilder, Tensor } from '@emoverse/onnx';
import { embedTokens } from './decoder.js';
import type { Ctx } from './layers.js';
import type { DecoderModel } from './lm.js';
import { f32, GraphSession } from './session.js';
import type { VisionModel } from './vision.js';
import { checkWeights, ParamBinder, type WeightSource, type WeightSpec } from './weights.js';

/** AU intensities (OpenFace's 17), expression probabilities (7), face descriptor (128). */
export const FACE_FEATURES = { aus: 17, expressions: 7, descriptor: 128 } as const;
export const FACE_FEATURE_DIM = FACE_FEATURES.aus + FACE_FEATURES.expressions + FACE_FEATURES.descriptor;

/**
 * One frame's face features as one visual token's input: AU intensities (OpenFace's 17, in
 * OpenFace order, 0-5, scaled to 0-1), expression probabilities (7), the face descriptor (128).
 */
export function faceFrameFeatures(f: {
  aus: ArrayLike<number>;
  expressions: ArrayLike<number>;
  descriptor: ArrayLike<number>;
}): Float32Array {
  const { aus, expressions, descriptor } = FACE_FEATURES;
  if (f.aus.length !== aus || f.expressions.length !== expressions || f.descriptor.length !== descriptor) {
    throw new Error(
      `face features need ${aus} AUs, ${expressions} expression probabilities and a ${descriptor}-d descriptor; got ${f.aus.length}, ${f.expressions.length}, ${f.descriptor.length}`,
    );
  }
  const out = new Float32Array(FACE_FEATURE_DIM);
  for (let i = 0; i < aus; i++) out[i] = f.aus[i] / 5;
  for (let i = 0; i < expressions; i++) out[aus + i] = f.expressions[i];
  for (let i = 0; i < descriptor; i++) out[aus + expressions + i] = f.descriptor[i];
  return out;
}

/**
 * T_v for one example from its frames' features: `n` frames taken at evenly spaced positions
 * (the sampling rate of the clip decides how many frames there are to pick from); a clip with no
 * face gives zeros. Returns [n, D_v] row-major.
 */
export function visualTokensFromFrames(frames: readonly Float32Array[], n: number): Float32Array {
  const dim = frames[0]?.length ?? FACE_FEATURE_DIM;
  const out = new Float32Array(n * dim);
  if (frames.length === 0) return out;
  for (let k = 0; k < n; k++) {
    const src = frames[Math.min(frames.length - 1, Math.floor(((k + 0.5) * frames.length) / n))];
    out.set(src, k * dim);
  }
  return out;
}

export type VisualEncoder = { kind: 'vit'; tower: VisionModel } | { kind: 'face-features'; dim: number };

export interface EmoVerseParts {
  llm: DecoderModel;
  encoder: VisualEncoder;
  /** projector.weight [hidden, D_v] and projector.bias [hidden]: y = x W_v^T + b */
  projector: WeightSource;
  /** the placeholder token id that marks where visual tokens go */
  imageTokenId: number;
}

export class EmoVerseModel {
  readonly llm: DecoderModel;
  readonly encoder: VisualEncoder;
  readonly projector: WeightSource;
  readonly imageTokenId: number;
  readonly visualDim: number;
  readonly projectorSpec: WeightSpec;
  private towerSession?: GraphSession;

  constructor(parts: EmoVerseParts) {
    this.llm = parts.llm;
    this.encoder = parts.encoder;
    this.projector = parts.projector;
    this.imageTokenId = parts.imageTokenId;
    this.visualDim = parts.encoder.kind === 'vit' ? parts.encoder.tower.config.hiddenSize : parts.encoder.dim;
    this.projectorSpec = new Map([
      ['projector.weight', [parts.llm.config.hiddenSize, this.visualDim]],
      ['projector.bias', [parts.llm.config.hiddenSize]],
    ]);
    checkWeights(this.projectorSpec, parts.projector, 'EmoVerse projector W_v');
    if (this.imageTokenId < 0 || this.imageTokenId >= parts.llm.config.vocabSize) {
      throw new Error(
        `image placeholder token ${this.imageTokenId} is outside the vocabulary (${parts.llm.config.vocabSize})`,
      );
    }
  }

  /**
   * The embedding step for buildLmGraph: text embeddings with every placeholder position replaced
   * by its projected visual token. Adds inputs visual_features [examples, N, D_v] and
   * visual_index [batch, seq] (see visualIndex). Returns the projector's binder so a train
   * step can make W_v trainable.
   */
  embedHook(opts: { trainProjector?: boolean; provided?: Readonly<Record<string, Tensor>> } = {}): {
    embed: (ctx: Ctx, ids: Tensor) => Tensor;
    projectorParams: () => ParamBinder | undefined;
  } {
    let binder: ParamBinder | undefined;
    const embed = (ctx: Ctx, ids: Tensor): Tensor => {
      const g: GraphBuilder = ctx.g;
      binder = new ParamBinder(
        g,
        this.projectorSpec,
        this.projector,
        () => opts.trainProjector === true,
        opts.provided,
      );
      const text = embedTokens(ctx, ids);
      const feats = g.input('visual_features', 'float32', ['examples', 'visual_tokens', this.visualDim]);
      const projected = g.add(
        g.matmul(feats, g.transpose(binder.get('projector.weight'), [1, 0])),
        binder.get('projector.bias'),
      );
      const flat = g.reshape(projected, [-1, this.llm.config.hiddenSize]);
      const index = g.input('visual_index', 'int64', [...ids.shape]); // as input_ids
      const isImage = g.unsqueeze(g.equal(ids, g.constant(this.imageTokenId, 'int64')), [2]);
      return g.where(isImage, g.gather(flat, index), text);
    };
    return { embed, projectorParams: () => binder };
  }

  /** T_v for a batch of images [n, C, S, S] through the (frozen) vision tower. */
  async encodeImages(pixels: Float32Array, n: number): Promise<{ data: Float32Array; dims: number[] }> {
    if (this.encoder.kind !== 'vit')
      throw new Error('encodeImages needs a ViT encoder; face features are given directly');
    const c = this.encoder.tower.config;
    this.towerSession ??= await GraphSession.create(this.encoder.tower.buildGraph());
    const out = await this.towerSession.run({
      pixel_values: f32(pixels, [n, c.numChannels, c.imageSize, c.imageSize]),
    });
    const t = out.last_hidden_state;
    return { data: t.data as Float32Array, dims: [...t.dims] };
  }

  async release(): Promise<void> {
    await this.towerSession?.release();
  }
}

/**
 * visual_index for a batch: position (b, s) holding the k-th placeholder of row b points at
 * row b * N + k of the flattened projected tokens. Each row must hold exactly N placeholders
 * (or none, for a text-only example).
 */
export function visualIndex(
  ids: readonly number[][],
  imageTokenId: number,
  tokensPerExample: number,
): number[][] {
  return ids.map((row, b) => {
    let k = 0;
    const out = row.map((t) => (t === imageTokenId ? b * tokensPerExample + k++ : 0));
    if (k !== 0 && k !== tokensPerExample) {
      throw new Error(
        `row ${b} holds ${k} image placeholders (token ${imageTokenId}) but there are ${tokensPerExample} visual tokens per example`,
      );
    }
    return out;
  });
}
