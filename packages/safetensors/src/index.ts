// safetensors read/write, sharded Hugging Face checkpoints, fp32/fp16/bf16
export { Checkpoint, writeCheckpoint } from './private/checkpoint.js';
export {
  bf16ToF32,
  DTYPE_BYTES,
  type Dtype,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  fromFloat32,
  type TypedArray,
  toFloat32,
} from './private/dtypes.js';
export { SafetensorsFile, type StoredTensor, type TensorInfo } from './private/file.js';
export { serializeSafetensors, type TensorToWrite, writeSafetensors } from './private/writer.js';
