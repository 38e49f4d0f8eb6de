// Writing .safetensors files, one tensor at a time to the file descriptor, so that writing
// needs no buffer the size of the file. Tensors are laid out in name order, as the Python
// library does, and the header is padded with spaces to an 8-byte boundary.
import { closeSync, openSync, writeSync } from 'node:fs';
import { DTYPE_BYTES, type Dtype, type TypedArray } from './dtypes.js';

export interface TensorToWrite {
  dtype: Dtype;
  shape: number[];
  /** the bytes, or a function making them when the writer gets to this tensor (so a big
   * checkpoint can be written holding one tensor at a time) */
  data: TypedArray | (() => TypedArray);
}

function bytesOf(name: string, t: TensorToWrite): Uint8Array {
  const d = typeof t.data === 'function' ? t.data() : t.data;
  const want = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
  if (d.byteLength !== want) {
    throw new Error(
      `tensor ${name}: ${t.dtype}${JSON.stringify(t.shape)} needs ${want} bytes, data has ${d.byteLength}`,
    );
  }
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export function encodeHeader(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): { header: Uint8Array; order: string[] } {
  const order = Object.keys(tensors).sort();
  const head: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) head.__metadata__ = metadata;
  let offset = 0;
  for (const name of order) {
    const t = tensors[name];
    const count = t.shape.reduce((a, b) => a * b, 1);
    const bytes = count * DTYPE_BYTES[t.dtype];
    if (typeof t.data !== 'function' && t.data.byteLength !== bytes) {
      throw new Error(
        `tensor ${name}: ${t.dtype}${JSON.stringify(t.shape)} needs ${bytes} bytes, data has ${t.data.byteLength}`,
      );
    }
    head[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(head);
  const enc = new TextEncoder();
  let len = enc.encode(json).length;
  json += ' '.repeat((8 - ((8 + len) % 8)) % 8);
  len = enc.encode(json).length;
  const header = new Uint8Array(8 + len);
  new DataView(header.buffer).setBigUint64(0, BigInt(len), true);
  header.set(enc.encode(json), 8);
  return { header, order };
}

export function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  const { header, order } = encodeHeader(tensors, metadata);
  const fd = openSync(path, 'w');
  try {
    writeAll(fd, header);
    for (const name of order) writeAll(fd, bytesOf(name, tensors[name]));
  } finally {
    closeSync(fd);
  }
}

/** The same bytes as writeSafetensors, in memory (for small files and tests). */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const { header, order } = encodeHeader(tensors, metadata);
  const parts = order.map((n) => bytesOf(n, tensors[n]));
  const out = new Uint8Array(header.length + parts.reduce((a, p) => a + p.byteLength, 0));
  out.set(header, 0);
  let at = header.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(1 << 30, bytes.length - done));
}
