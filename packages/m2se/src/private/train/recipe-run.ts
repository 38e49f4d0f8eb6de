// A whole recipe on a model: the optional language-model pre-training (every weight, no LoRA, the
// prompt trained on too), then the stages with LoRA adapters and the projector W_v trained and the
// rest frozen. Each phase checkpoints into its own store, so a restarted run skips what is done and
// continues the phase it was in. The model is typed structurally after packages/models' EmoVerseLM.
import type { AdamWConfig } from '@emoverse/autograd';
import type { Recipe } from '../recipe.js';
import { pretrainingRecipe } from '../recipe-files.js';
import type { TaskName } from '../tasks.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { chatTemplateFormat, type EncodedExample, encodeExample, type Tokenizer } from './encode.js';
import { type EmtExample, longestPerConversation } from './examples.js';
import { type LmTrainerEngineOptions, type LmTrainerLike, lmTrainerEngine } from './lm-trainer-engine.js';
import { type StepProgress, type TrainResult, train } from './loop.js';

/** What trainRecipe passes to model.trainer() (models' TrainOptions). */
export interface LmTrainerOptions {
  lora: { r: number; alpha: number; dropout: number; targetModules: string[] } | false;
  trainBase: boolean;
  trainProjector: boolean;
  /** The engine's own optimizer config type (packages/autograd), not a mirror of it. */
  optimizer: AdamWConfig;
  clipGradNorm?: number;
  microBatches: number;
  seed: number;
}

export interface RecipeTrainer extends LmTrainerLike {
  /** Trainable values by name (base weights, LoRA A/B, projector). */
  parameters(): Promise<Map<string, Float32Array>>;
  release(): Promise<void>;
}

export interface RecipeModel<Self> {
  readonly tokenizer: Tokenizer & {
    applyChatTemplate(
      messages: { role: string; content: string }[],
      opts?: { addGenerationPrompt?: boolean },
    ): string;
  };
  readonly eosId: number;
  trainer(o: LmTrainerOptions): Promise<RecipeTrainer>;
  /** A copy whose weights are replaced by these values (by name). */
  withParameters(values: ReadonlyMap<string, Float32Array>): Self;
}

export type RecipePhase = 'pretraining' | 'stages';

/** The trainer type a model makes (LmTrainer for EmoVerseLM), so results keep its full API. */
export type TrainerOf<M> = M extends { trainer(o: LmTrainerOptions): Promise<infer T> } ? T : RecipeTrainer;

/** models' trainer options for a phase of the recipe. */
export function lmTrainerOptions(recipe: Recipe, phase: RecipePhase): LmTrainerOptions {
  const o = recipe.optimizer;
  const pre = phase === 'pretraining';
  const full = pre || recipe.lora.mode === 'full';
  return {
    lora: full
      ? false
      : {
          r: recipe.lora.r,
          alpha: recipe.lora.alpha,
          dropout: recipe.lora.dropout,
          targetModules: recipe.lora.targets,
        },
    trainBase: full,
    // the projector has nothing to learn from text-only pre-training
    trainProjector: !pre && recipe.model.trainable.includes('projector'),
    optimizer: {
      type: 'adamw',
      lr: pre ? (recipe.pretraining?.lr ?? o.lr) : o.lr,
      beta1: o.beta1,
      beta2: o.beta2,
      eps: o.eps,
      weightDecay: o.weightDecay,
      decay: () => true,
    },
    clipGradNorm: o.maxGradNorm,
    microBatches: recipe.batch.gradAccumulation,
    seed: recipe.seed,
  };
}

export interface TrainRecipeOptions<M extends RecipeModel<M>> {
  recipe: Recipe;
  model: M;
  examples: Partial<Record<TaskName, readonly EmtExample[]>>;
  /** One checkpoint store per phase (e.g. two folders or two object-store prefixes). */
  stores?: Record<RecipePhase, CheckpointStore>;
  checkpointEvery?: number;
  onStep?: (phase: RecipePhase, progress: StepProgress) => void | Promise<void>;
  /** Stop (with a checkpoint) after this many optimizer steps of the whole run (both phases). */
  stopAfterStep?: number;
  signal?: AbortSignal;
  /** T_v or a custom batch for the stages (see lmTrainerEngine). */
  engine?: LmTrainerEngineOptions;
}

export interface TrainRecipeResult<M> {
  completed: boolean;
  pretraining?: TrainResult;
  stages?: TrainResult;
  /** The model after pre-training (the base the adapters belong to). */
  base: M;
  /**
   * The stages' trainer, holding the LoRA adapter and projector (savePeft, adapter(), parameters());
   * the caller releases it. Absent when the run stopped before the stages.
   */
  trainer?: TrainerOf<M>;
}

type TaskExamples = Partial<Record<TaskName, readonly EmtExample[]>>;

function countsOf(examples: TaskExamples): Partial<Record<TaskName, number>> {
  const counts: Partial<Record<TaskName, number>> = {};
  for (const [t, list] of Object.entries(examples) as [TaskName, readonly EmtExample[]][])
    counts[t] = list.length;
  return counts;
}

/** The tasks whose query holds a conversation (ER, MSA and FER ask about one utterance or clip). */
const CONVERSATION_TASKS: readonly TaskName[] = ['ERI', 'ECPE'];

/**
 * What the LM pre-training reads: every record, or (`distinct: conversation`) one record per
 * conversation of the conversation tasks.
 */
export function pretrainingExamples(recipe: Recipe, examples: TaskExamples): TaskExamples {
  if (recipe.pretraining?.distinct !== 'conversation') return examples;
  const out: TaskExamples = { ...examples };
  for (const t of CONVERSATION_TASKS) {
    const list = examples[t];
    if (list) out[t] = longestPerConversation(list);
  }
  return out;
}

export async function trainRecipe<M extends RecipeModel<M>>(
  o: TrainRecipeOptions<M>,
): Promise<TrainRecipeResult<M>> {
  const { recipe } = o;
  const encoder = (model: M, promptLoss: boolean) => {
    const format = chatTemplateFormat(model.tokenizer);
    return (ex: EmtExample): EncodedExample =>
      encodeExample(model.tokenizer, ex, {
        maxSeqLen: recipe.batch.maxSeqLen,
        format,
        eosId: model.eosId,
        promptLoss,
      });
  };

  let base = o.model;
  let used = 0;
  let pretraining: TrainResult | undefined;
  const preExamples = pretrainingExamples(recipe, o.examples);
  const pre = pretrainingRecipe(recipe, countsOf(preExamples));
  if (pre) {
    const trainer = await base.trainer(lmTrainerOptions(recipe, 'pretraining'));
    try {
      pretraining = await train({
        recipe: pre,
        examples: preExamples,
        engine: lmTrainerEngine(trainer),
        encode: encoder(base, true),
        padId: 0,
        store: o.stores?.pretraining,
        checkpointEvery: o.checkpointEvery,
        onStep: (p) => o.onStep?.('pretraining', p),
        stopAfterStep: o.stopAfterStep,
        signal: o.signal,
      });
      if (!pretraining.completed) return { completed: false, pretraining, base };
      base = base.withParameters(await trainer.parameters());
      used = pretraining.steps;
    } finally {
      await trainer.release();
    }
  }

  const trainer = await base.trainer(lmTrainerOptions(recipe, 'stages'));
  try {
    const stages = await train({
      recipe,
      examples: o.examples,
      engine: lmTrainerEngine(trainer, o.engine),
      encode: encoder(base, false),
      padId: 0,
      store: o.stores?.stages,
      checkpointEvery: o.checkpointEvery,
      onStep: (p) => o.onStep?.('stages', p),
      stopAfterStep: o.stopAfterStep === undefined ? undefined : Math.max(0, o.stopAfterStep - used),
      signal: o.signal,
    });
    return { completed: stages.completed, pretraining, stages, base, trainer: trainer as TrainerOf<M> };
  } catch (err) {
    await trainer.release();
    throw err;
  }
}
