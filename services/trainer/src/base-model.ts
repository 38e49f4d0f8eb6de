// The model a run starts from: a fresh emoverse-nano (random weights, a BPE vocabulary learnt from the
// training text: the same data give the same tokenizer, so a resumed run rebuilds the same model), or
// a base checkpoint folder (EmoVerseLM.save layout) whose tensors are checked against its config and
// against the recipe's model.base before any compute.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmtExample, Recipe, TaskName } from '@emoverse/m2se';
import {
  ConfigError,
  checkWeights,
  decoderSpec,
  EmoVerseLM,
  nanoPreset,
  WeightError,
} from '@emoverse/models';
import { probeExecutionProvider } from '@emoverse/runtime';
import { nanoModel } from '@emoverse/trainer-core';
import { DeviceUnavailable, RunRejected } from './rejected.js';

/** Base models the trainer can create from scratch. */
export const FROM_SCRATCH = ['emoverse-nano'] as const;

export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';

/** The shape fields of the preset a recipe names, in HF config names. */
const SHAPE_FIELDS = [
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
] as const;

/**
 * Opens a base checkpoint and checks it: every tensor of its config present with the config's shape,
 * the projector W_v matching hidden size x visual dim, and (for base emoverse-nano) the preset's shape.
 * Reads only headers. Throws RunRejected naming the first bad tensor or field.
 */
export function checkBaseCheckpoint(dir: string, base: string): void {
  if (!existsSync(dir)) throw new RunRejected([`base checkpoint ${dir}: no such folder`]);
  // the preset's shape first, from config.json alone: the clearest message for the wrong model
  const configPath = [join(dir, 'llm', 'config.json'), join(dir, 'config.json')].find((p) => existsSync(p));
  if (!configPath) throw new RunRejected([`base checkpoint ${dir}: no llm/config.json or config.json`]);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new RunRejected([`base checkpoint ${configPath}: ${(err as Error).message}`]);
  }
  if (base === 'emoverse-nano') {
    const preset = nanoPreset(Number(config.vocab_size)).llm as Record<string, unknown>;
    const bad = SHAPE_FIELDS.filter((f) => config[f] !== preset[f]);
    if (bad.length > 0) {
      throw new RunRejected(
        bad.map(
          (f) => `base checkpoint ${dir}: ${f} is ${config[f]} but model.base ${base} has ${preset[f]}`,
        ),
      );
    }
  }
  let lm: EmoVerseLM;
  try {
    lm = EmoVerseLM.load(dir);
  } catch (err) {
    throw new RunRejected([`base checkpoint ${dir}: ${(err as Error).message}`]);
  }
  const c = lm.llm.config;
  try {
    checkWeights(decoderSpec(c), lm.llm.weights, `base checkpoint ${dir}`);
    const e = lm.emoverse;
    if (e) checkWeights(e.projectorSpec, e.projector, `base checkpoint ${dir} (projector)`);
  } catch (err) {
    if (err instanceof WeightError || err instanceof ConfigError) throw new RunRejected([err.message]);
    throw err;
  }
}

export interface ModelOptions {
  /** The run's recipe: model.base, model.nano (shape, vocabulary), seed. */
  recipe: Recipe;
  checkpoint?: string;
  ep: ExecutionProvider;
  /** BPE vocabulary of a from-scratch model whose recipe names none (model.nano.vocab wins). */
  vocabSize: number;
  examples: Partial<Record<TaskName, readonly EmtExample[]>>;
}

/** A fresh nano shaped by the recipe (trainer-core's nanoModel, as `npm run experiment`), or a checkpoint. */
export function createBaseModel(o: ModelOptions): EmoVerseLM {
  const session = { ep: o.ep };
  if (o.checkpoint) return EmoVerseLM.load(o.checkpoint, session);
  return nanoModel(o.recipe, o.examples, {
    vocabSize: o.recipe.model.nano?.vocab ?? o.vocabSize,
    sessionOptions: session,
  });
}

/** Checks that ONNX Runtime can open a session on `ep` in this process (probed once per process). */
export async function checkDevice(ep: ExecutionProvider): Promise<void> {
  const probe = await probeExecutionProvider(ep);
  if (!probe.available) throw new DeviceUnavailable(ep, probe.reason ?? 'unavailable');
}
