// The model a recipe trains from scratch: emoverse-nano made here, shaped by the recipe's model.nano,
// its tokenizer learnt from the training text. `npm run experiment` and the trainer service both use it.
import type { EmtExample, Recipe } from '@emoverse/m2se';
import { EmoVerseLM, type EmoVerseLMParts, type NanoSize } from '@emoverse/models';

/** Training text the from-scratch tokenizer is learnt from: the first examples of each task, tasks sorted. */
export function tokenizerCorpus(
  examples: Partial<Record<string, readonly EmtExample[]>>,
  perTask = 3000,
): string[] {
  return Object.keys(examples)
    .sort()
    .flatMap((t) => (examples[t] ?? []).slice(0, perTask).flatMap((e) => [e.query, e.response]));
}

/** The decoder shape a recipe's model.nano names (heads of 32 dimensions); undefined: the preset's. */
export function nanoSize(recipe: Recipe): NanoSize | undefined {
  const shape = recipe.model.nano;
  return shape && { hidden: shape.hidden, layers: shape.layers, heads: shape.hidden / 32 };
}

/**
 * A fresh emoverse-nano for a recipe: its BPE vocabulary learnt from the training text (the same data
 * give the same tokenizer, so a resumed run rebuilds the same model), random weights seeded by the
 * recipe, the recipe's shape (model.nano; the preset's 4 x 128 and 2,048 tokens without it).
 */
export function nanoModel(
  recipe: Recipe,
  examples: Partial<Record<string, readonly EmtExample[]>>,
  o: { vocabSize?: number; sessionOptions?: EmoVerseLMParts['sessionOptions'] } = {},
): EmoVerseLM {
  const nano = EmoVerseLM.createNano({
    corpus: tokenizerCorpus(examples),
    vocabSize: o.vocabSize ?? recipe.model.nano?.vocab ?? 2048,
    seed: recipe.seed,
    size: nanoSize(recipe),
  });
  return o.sessionOptions ? new EmoVerseLM({ ...nano.parts, sessionOptions: o.sessionOptions }) : nano;
}
