// A SigLIP or CLIP vision tower loaded from a Hugging Face folder, and its graph:
// pixel_values [batch, C, S, S] -> last_hidden_state [batch, tokens, hidden] (+ penultimate, pooled).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, type Tensor } from '@emoverse/onnx';
import { Checkpoint } from '@emoverse/safetensors';
import { clipForward, clipSpec } from './clip.js';
import { ConfigError, parseConfig, type VisionConfig } from './config.js';
import { type ImageProcessorConfig, imageProcessorFromHf } from './image.js';
import type { Ctx } from './layers.js';
import { siglipForward, siglipSpec } from './siglip.js';
import {
  checkpointSource,
  checkWeights,
  ParamBinder,
  type WeightSource,
  type WeightSpec,
} from './weights.js';

export class VisionModel {
  readonly spec: WeightSpec;
  readonly withHead: boolean;

  constructor(
    readonly config: VisionConfig,
    readonly weights: WeightSource,
    readonly imageProcessor: ImageProcessorConfig = imageProcessorFromHf(config.arch, config.imageSize),
    readonly name: string = config.arch,
  ) {
    // SigLIP checkpoints may or may not carry the pooling head (vision_use_head)
    this.withHead = config.arch === 'siglip' && weights.has('head.probe');
    this.spec = config.arch === 'clip' ? clipSpec(config) : siglipSpec(config, this.withHead);
    checkWeights(this.spec, weights, name);
  }

  static fromDir(dir: string): VisionModel {
    const config = parseConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
    if (config.kind !== 'vision')
      throw new ConfigError(`${dir}: config.json describes a ${config.arch} decoder, not a vision tower`);
    const prePath = join(dir, 'preprocessor_config.json');
    const pre = existsSync(prePath) ? JSON.parse(readFileSync(prePath, 'utf8')) : {};
    return new VisionModel(
      config,
      checkpointSource(Checkpoint.open(dir)),
      imageProcessorFromHf(config.arch, config.imageSize, pre),
      dir,
    );
  }

  /** The tower inside another graph (EmoVerse): pixels -> tokens. */
  forward(ctx: Ctx, pixels: Tensor): { last: Tensor; penultimate: Tensor; pooled?: Tensor } {
    return this.config.arch === 'clip'
      ? clipForward(ctx, this.config, pixels)
      : siglipForward(ctx, this.config, pixels, this.withHead);
  }

  /** Parameters bound to `g` (vision weights are frozen initializers). */
  binder(g: GraphBuilder): ParamBinder {
    return new ParamBinder(g, this.spec, this.weights);
  }

  /** Standalone graph: pixel_values -> last_hidden_state, penultimate_hidden_state, pooler_output. */
  buildGraph(): GraphBuilder {
    const c = this.config;
    const g = new GraphBuilder(`${c.arch}-vision`);
    const ctx: Ctx = { g, p: this.binder(g), training: false };
    const px = g.input('pixel_values', 'float32', ['batch', c.numChannels, c.imageSize, c.imageSize]);
    const out = this.forward(ctx, px);
    g.output(out.last, 'last_hidden_state');
    g.output(out.penultimate, 'penultimate_hidden_state');
    if (out.pooled) g.output(out.pooled, 'pooler_output');
    return g;
  }
}
