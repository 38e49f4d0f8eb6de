// One road for every training run, from the trainer service (its `train` worker) and from
// `npm run experiment` alike: after planRun, the base model (a fresh emoverse-nano shaped by the
// recipe, or the base checkpoint), the recipe on it (packages/m2se: LM pre-training, then the LoRA
// stages, checkpointing into the caller's stores, so a restarted run resumes), then the served model
// folder and, for a LoRA run, its PEFT adapter saved where the caller says. Where checkpoints live,
// what is reported at each step and where the folders go next is the caller's.
import {
  type CheckpointStore,
  type RecipePhase,
  type StepLog,
  type StepProgress,
  type TrainRecipeResult,
  trainRecipe,
} from '@emoverse/m2se';
import type { EmoVerseLM } from '@emoverse/models';
import { type BaseModelOptions, baseModel } from './base-model.js';
import type { PlannedRun } from './plan.js';

export interface TrainRunOptions extends Pick<BaseModelOptions, 'ep' | 'vocabSize' | 'defaultVocabSize'> {
  /** One checkpoint store per phase (two folders, or two object-store prefixes). */
  stores: Record<RecipePhase, CheckpointStore>;
  checkpointEvery: number;
  /** Where a completed run's served model (EmoVerseLM.save) and PEFT adapter are saved. */
  outDir: { model: string; adapter?: string };
  onStep?: (phase: RecipePhase, progress: StepProgress) => void | Promise<void>;
  /** Stops at the next step boundary, with a checkpoint (resumable). */
  signal?: AbortSignal;
  /** Stop (with a checkpoint) after this many optimizer steps of the whole run. */
  stopAfterStep?: number;
  log?: (line: string) => void;
}

export interface TrainRunResult {
  completed: boolean;
  history: { pretraining: StepLog[]; stages: StepLog[] };
  /** Seconds of both phases and saving, not of building the model or reading the data. */
  trainSeconds: number;
  /** The adapter folder, when the run completed with LoRA (a full-weight run has none). */
  adapterDir?: string;
}

/**
 * Saves a completed run: the adapter (PEFT, belonging to the pre-trained base) when LoRA was trained,
 * then the served model, the adapter merged into the base, cutting prompts to the length the recipe
 * trained with, as the trainer cut them. Returns the adapter folder, if any.
 */
async function saveTrained(
  run: TrainRecipeResult<EmoVerseLM>,
  maxSeqLen: number,
  out: TrainRunOptions['outDir'],
) {
  const trainer = run.trainer;
  if (!trainer) return undefined;
  const adapterDir = out.adapter && trainer.train.adapter !== undefined ? out.adapter : undefined;
  if (adapterDir) await trainer.savePeft(adapterDir);
  const served = (await run.base.withTrained(trainer)).withContextLength(maxSeqLen);
  await trainer.release();
  served.save(out.model);
  await served.release();
  return adapterDir;
}

/** Trains a planned run on its base model and, when it completes, saves what is served. */
export async function trainRun(
  run: Pick<PlannedRun, 'recipe' | 'examples' | 'baseCheckpoint'>,
  o: TrainRunOptions,
): Promise<TrainRunResult> {
  const { recipe, examples } = run;
  const model = baseModel({ ...o, recipe, examples, checkpoint: run.baseCheckpoint });
  const c = model.llm.config;
  o.log?.(
    `${recipe.name}: ${recipe.model.base} ${c.numLayers} x ${c.hiddenSize}, vocab ${model.tokenizer.vocabSize}, tasks ${Object.keys(examples).join(', ')}`,
  );
  const started = performance.now();
  const trained = await trainRecipe({
    recipe,
    model,
    examples,
    stores: o.stores,
    checkpointEvery: o.checkpointEvery,
    onStep: o.onStep,
    signal: o.signal,
    stopAfterStep: o.stopAfterStep,
  });
  const history = { pretraining: trained.pretraining?.history ?? [], stages: trained.stages?.history ?? [] };
  if (!trained.completed || !trained.trainer) {
    await trained.trainer?.release();
    return { completed: false, history, trainSeconds: (performance.now() - started) / 1000 };
  }
  const adapterDir = await saveTrained(trained, recipe.batch.maxSeqLen, o.outDir);
  const trainSeconds = (performance.now() - started) / 1000;
  o.log?.(`${recipe.name}: trained in ${trainSeconds.toFixed(0)} s, saved to ${o.outDir.model}`);
  return { completed: true, history, trainSeconds, adapterDir };
}
