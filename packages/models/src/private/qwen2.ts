// Qwen2: the Llama layout with a bias on q/k/v (never on o_proj) and, in the small models,
// lm_head tied to the token embeddings (the checkpoint then has no lm_head.weight).
// Both come from the config (qkvBias is always true for qwen2; tie_word_embeddings), so the
// graph is Llama's.

import type { DecoderArchitecture } from './decoder.js';
import { llama } from './llama.js';

export const qwen2: DecoderArchitecture = llama;
