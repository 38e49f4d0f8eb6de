// Llama, Phi-3, Qwen2, SigLIP, CLIP, the EmoVerse composition, LoRA, tokenizers and generation on the engine
export {};
