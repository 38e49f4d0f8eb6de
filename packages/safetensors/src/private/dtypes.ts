// The safetensors dtypes this package understands, their sizes, and fp16/bf16 <-> fp32 conversion.

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<Dtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export type TypedArray =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

export function isDtype(s: string): s is Dtype {
  return Object.hasOwn(DTYPE_BYTES, s);
}

/** A typed array of the storage type of `dtype` with `n` elements (F16/BF16 are raw 16-bit words). */
export function allocate(dtype: Dtype, n: number): TypedArray {
  switch (dtype) {
    case 'F64':
      return new Float64Array(n);
    case 'F32':
      return new Float32Array(n);
    case 'F16':
    case 'BF16':
      return new Uint16Array(n);
    case 'I64':
      return new BigInt64Array(n);
    case 'I32':
      return new Int32Array(n);
    case 'I16':
      return new Int16Array(n);
    case 'I8':
      return new Int8Array(n);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(n);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half -> float. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal or zero
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float -> IEEE half, rounding to nearest even (as torch's .half()). */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++; // may carry into the exponent, which is correct
  return sign | r;
}

/** bfloat16 is the top half of a float32. */
export function bf16ToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

export function f32ToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return (bits >>> 16) | 0x40; // keep NaN a NaN
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** Any stored tensor as Float32Array (ints become floats; int64 beyond 2^24 lose precision). */
export function toFloat32(dtype: Dtype, data: TypedArray): Float32Array {
  if (dtype === 'F32') return data as Float32Array;
  const out = new Float32Array(data.length);
  if (dtype === 'F16') {
    // a 64k-entry table turns the conversion into one lookup per element
    const table = f16Table();
    const src = data as Uint16Array;
    for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  } else if (dtype === 'BF16') {
    const src = data as Uint16Array;
    const o32 = new Uint32Array(out.buffer);
    for (let i = 0; i < src.length; i++) o32[i] = src[i] << 16;
  } else if (dtype === 'I64') {
    const src = data as BigInt64Array;
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  } else {
    const src = data as Exclude<TypedArray, BigInt64Array>;
    for (let i = 0; i < src.length; i++) out[i] = src[i];
  }
  return out;
}

let table16: Float32Array | undefined;
function f16Table(): Float32Array {
  if (!table16) {
    table16 = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table16[h] = f16ToF32(h);
  }
  return table16;
}

/** Float32 data encoded as `dtype` storage (F32, F16 or BF16). */
export function fromFloat32(dtype: 'F32' | 'F16' | 'BF16', data: Float32Array): TypedArray {
  if (dtype === 'F32') return data;
  const out = new Uint16Array(data.length);
  const conv = dtype === 'F16' ? f32ToF16 : f32ToBf16;
  for (let i = 0; i < data.length; i++) out[i] = conv(data[i]);
  return out;
}
