// The model an experiment trains: emoverse-nano made here from scratch, shaped by its recipe.
import type { EmtExample, Recipe } from '@emoverse/m2se';
import { EmoVerseLM } from '@emoverse/models';

/**
 * A fresh emoverse-nano for a recipe: its BPE vocabulary learnt from the training text (queries and
 * answers, up to 3,000 examples a task), random weights seeded by the recipe, the recipe's shape.
 */
export function nanoModel(
  recipe: Recipe,
  examples: Partial<Record<string, readonly EmtExample[]>>,
  smoke: boolean,
): EmoVerseLM {
  const corpus = Object.values(examples)
    .flatMap((list) => (list ?? []).slice(0, 3000))
    .flatMap((e) => [e.query, e.response]);
  const shape = recipe.model.nano;
  return EmoVerseLM.createNano({
    corpus,
    vocabSize: smoke ? 512 : (shape?.vocab ?? 2048),
    seed: recipe.seed,
    size: shape && { hidden: shape.hidden, layers: shape.layers, heads: shape.hidden / 32 },
  });
}
