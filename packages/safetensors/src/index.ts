// safetensors read/write, sharded Hugging Face checkpoints, fp32/fp16/bf16
export {};
