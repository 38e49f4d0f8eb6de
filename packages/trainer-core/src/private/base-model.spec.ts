// A run's base model follows its recipe: a fresh nano takes model.nano's shape, and a base checkpoint
// is checked against model.nano's shape (the preset's without it), not always against the preset.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRecipe, type Recipe } from '@emoverse/m2se';
import { EmoVerseLM } from '@emoverse/models';
import { baseModel, checkBaseCheckpoint } from './base-model.js';
import { RunRejected } from './rejected.js';
import { toyRecipe } from './toy-emt.fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'trainer-core-base-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The toy recipe, with model.nano when a shape is given. */
function recipe(nano?: { hidden: number; layers: number; vocab: number }): Recipe {
  const r = JSON.parse(toyRecipe());
  if (nano) r.model.nano = nano;
  return parseRecipe(JSON.stringify(r), { format: 'json' });
}

const small = { hidden: 64, layers: 2, vocab: 300 };
let checkpoint: string;
before(() => {
  checkpoint = join(tmp, 'small');
  EmoVerseLM.createNano({
    corpus: ['a small corpus for a small model'],
    vocabSize: 300,
    seed: 1,
    size: { hidden: 64, layers: 2, heads: 2 },
  }).save(checkpoint);
});

describe('checkBaseCheckpoint', () => {
  it("accepts a checkpoint of the recipe's model.nano shape", () => {
    checkBaseCheckpoint(checkpoint, recipe(small));
  });

  it("rejects it against another shape: the preset's without model.nano, or a different model.nano", () => {
    assert.throws(
      () => checkBaseCheckpoint(checkpoint, recipe()),
      (err: Error) =>
        err instanceof RunRejected &&
        /hidden_size is 64 but model\.base emoverse-nano has 128/.test(err.message) &&
        /num_hidden_layers is 2 but model\.base emoverse-nano has 4/.test(err.message),
    );
    assert.throws(
      () => checkBaseCheckpoint(checkpoint, recipe({ ...small, layers: 3 })),
      /num_hidden_layers is 2 but model\.base emoverse-nano has 3/,
    );
  });
});

describe('baseModel', () => {
  it("makes a fresh nano of the recipe's shape, and loads a checkpoint as it is", () => {
    const examples = { ER: [{ task: 'ER' as const, query: 'How does the speaker feel?', response: 'Joy.' }] };
    const fresh = baseModel({ recipe: recipe(small), examples });
    assert.deepEqual([fresh.llm.config.hiddenSize, fresh.llm.config.numLayers], [64, 2]);
    const loaded = baseModel({ recipe: recipe(), examples, checkpoint });
    assert.equal(loaded.llm.config.hiddenSize, 64);
  });
});
