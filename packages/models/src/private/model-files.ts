// The files of a saved model folder and of a PEFT adapter folder: what the registry uploads, fetches and verifies.

/**
 * The files of a model folder, relative to it: what EmoVerseLM.save writes (emoverse.json, tokenizer,
 * projector, llm/) or a plain Hugging Face decoder folder holds (config.json, model.safetensors).
 * Absent ones are skipped by whoever copies a folder.
 */
export const MODEL_FILES: readonly string[] = [
  'emoverse.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'projector.safetensors',
  'config.json',
  'model.safetensors',
  'llm/config.json',
  'llm/model.safetensors',
  // the decision rule fitted for these weights (packages/serving reads it)
  'calibration.json',
];

/** The files of a PEFT adapter folder (savePeft / loadPeft). */
export const ADAPTER_FILES: readonly string[] = ['adapter_config.json', 'adapter_model.safetensors'];
