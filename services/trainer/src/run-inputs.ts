// A run's inputs as StartRun or the `train` command name them (recipe text, a dataset location, a base
// model location) fetched to local folders when they are in the object store, then planned by
// trainer-core's planRun: everything is checked here, before a byte of training.
import type { BlobStore } from '@emoverse/bus';
import { type PlannedRun, planRun } from '@emoverse/trainer-core';
import { type Location, resolveBaseModel, resolveDataset } from './dataset.js';
import type { RecipeText } from './recipe-source.js';

export interface RunInputs {
  recipe: RecipeText;
  dataset: Location;
  /** A base checkpoint folder or `os://<bucket>/<prefix>`. */
  baseModel?: string;
  blobs: BlobStore;
  /** Where object-store datasets and models are fetched to. */
  cacheDir: string;
}

/** The planned run and the local dataset folder it reads; throws RunRejected naming every problem. */
export async function planInputs(i: RunInputs): Promise<{ run: PlannedRun; datasetDir: string }> {
  const fetched = { blobs: i.blobs, cacheDir: i.cacheDir };
  const datasetDir = await resolveDataset(i.dataset, fetched);
  const baseCheckpoint = i.baseModel ? await resolveBaseModel(i.baseModel, fetched) : undefined;
  const run = await planRun({
    recipe: i.recipe.text,
    format: i.recipe.format,
    source: i.recipe.source,
    datasetDir,
    baseCheckpoint,
  });
  return { run, datasetDir };
}
