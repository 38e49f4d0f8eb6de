// Specs for the model folder's file list: every file EmoVerseLM.save and savePeft write is in it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADAPTER_FILES, MODEL_FILES } from './model-files.js';

test('the lists name the saved folder layout, each file once', () => {
  for (const f of ['emoverse.json', 'projector.safetensors', 'llm/config.json', 'llm/model.safetensors'])
    assert.ok(MODEL_FILES.includes(f), f);
  assert.deepEqual(ADAPTER_FILES, ['adapter_config.json', 'adapter_model.safetensors']);
  assert.equal(new Set(MODEL_FILES).size, MODEL_FILES.length);
});
