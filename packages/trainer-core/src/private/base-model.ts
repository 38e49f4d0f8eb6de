// The model a run starts from: a fresh emoverse-nano shaped by the recipe (nanoModel), or a base
// checkpoint folder (EmoVerseLM.save layout) whose tensors are checked against its config and against
// the recipe's model.base (and model.nano's shape) before any compute; and the device check of a run.
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
import { nanoModel, nanoSize } from './nano.js';
import { DeviceUnavailable, RunRejected } from './rejected.js';

/** Base models a run can create from scratch. */
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

/** A checkpoint's decoder config (llm/config.json or config.json); throws RunRejected when unreadable. */
function readDecoderConfig(dir: string): Record<string, unknown> {
  const path = [join(dir, 'llm', 'config.json'), join(dir, 'config.json')].find((p) => existsSync(p));
  if (!path) throw new RunRejected([`base checkpoint ${dir}: no llm/config.json or config.json`]);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new RunRejected([`base checkpoint ${path}: ${(err as Error).message}`]);
  }
}

/** For base emoverse-nano: the config fields that differ from the recipe's shape (model.nano, else the preset's). */
function nanoShapeProblems(dir: string, config: Record<string, unknown>, recipe: Recipe): string[] {
  const { base } = recipe.model;
  if (base !== 'emoverse-nano') return [];
  const preset = nanoPreset(Number(config.vocab_size), undefined, nanoSize(recipe)).llm as Record<
    string,
    unknown
  >;
  return SHAPE_FIELDS.filter((f) => config[f] !== preset[f]).map(
    (f) => `base checkpoint ${dir}: ${f} is ${config[f]} but model.base ${base} has ${preset[f]}`,
  );
}

/** Every tensor of the checkpoint's config present with the config's shape, the projector W_v too. */
function checkTensors(dir: string): void {
  let lm: EmoVerseLM;
  try {
    lm = EmoVerseLM.load(dir);
  } catch (err) {
    throw new RunRejected([`base checkpoint ${dir}: ${(err as Error).message}`]);
  }
  try {
    checkWeights(decoderSpec(lm.llm.config), lm.llm.weights, `base checkpoint ${dir}`);
    const e = lm.emoverse;
    if (e) checkWeights(e.projectorSpec, e.projector, `base checkpoint ${dir} (projector)`);
  } catch (err) {
    if (err instanceof WeightError || err instanceof ConfigError) throw new RunRejected([err.message]);
    throw err;
  }
}

/**
 * Opens a base checkpoint and checks it against the recipe: for base emoverse-nano the recipe's shape
 * (model.nano, else the preset's) from config.json first, the clearest message for the wrong model;
 * then every tensor against the config. Reads only headers. Throws RunRejected naming what is wrong.
 */
export function checkBaseCheckpoint(dir: string, recipe: Recipe): void {
  if (!existsSync(dir)) throw new RunRejected([`base checkpoint ${dir}: no such folder`]);
  const problems = nanoShapeProblems(dir, readDecoderConfig(dir), recipe);
  if (problems.length > 0) throw new RunRejected(problems);
  checkTensors(dir);
}

export interface BaseModelOptions {
  /** The run's recipe: model.base, model.nano (shape, vocabulary), seed. */
  recipe: Recipe;
  examples: Partial<Record<TaskName, readonly EmtExample[]>>;
  /** A base checkpoint folder; absent: a fresh emoverse-nano. */
  checkpoint?: string;
  ep?: ExecutionProvider;
  /** BPE vocabulary of a fresh nano, over the recipe's model.nano.vocab (smoke runs). */
  vocabSize?: number;
  /** BPE vocabulary of a fresh nano whose recipe names none (the trainer's EMOVERSE_NANO_VOCAB). */
  defaultVocabSize?: number;
}

/** A fresh nano shaped by the recipe, or the checkpoint, with sessions on the run's EP. */
export function baseModel(o: BaseModelOptions): EmoVerseLM {
  const sessionOptions = o.ep ? { ep: o.ep } : undefined;
  if (o.checkpoint) return EmoVerseLM.load(o.checkpoint, sessionOptions);
  return nanoModel(o.recipe, o.examples, {
    vocabSize: o.vocabSize ?? o.recipe.model.nano?.vocab ?? o.defaultVocabSize,
    sessionOptions,
  });
}

/** Checks that ONNX Runtime can open a session on `ep` in this process (probed once per process). */
export async function checkDevice(ep: ExecutionProvider): Promise<void> {
  const probe = await probeExecutionProvider(ep);
  if (!probe.available) throw new DeviceUnavailable(ep, probe.reason ?? 'unavailable');
}
