// Test helpers for the engine packages (`@emoverse/safetensors/testing`: the lowest one that reads shared files), kept out of the public index.
export { sharedDirForTests } from './private/shared-dir.js';
