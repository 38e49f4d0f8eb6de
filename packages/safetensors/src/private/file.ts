// One .safetensors file, read lazily: the header is parsed on open, and each tensor is read
// from the file descriptor straight into its own typed array when asked for. The whole file is
// never held in memory, so a large checkpoint costs one copy of the weights, not two.
//
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets:[b,e]}},
// then the data block; offsets are relative to the start of the data block.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { allocate, DTYPE_BYTES, type Dtype, isDtype, type TypedArray, toFloat32 } from './dtypes.js';

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte range inside the data block. */
  begin: number;
  end: number;
}

export interface StoredTensor {
  dtype: Dtype;
  shape: number[];
  data: TypedArray;
}

/** Header parsed and checked; `dataStart` is the byte offset of the data block in the file. */
export interface Header {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  dataStart: number;
}

// Reads must not exceed 2 GiB per call.
const CHUNK = 1 << 30;

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(CHUNK, into.length - done), position + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

export function parseHeader(fd: number, path: string): Header {
  const size = fstatSync(fd).size;
  if (size < 8) throw new Error(`${path}: not a safetensors file (${size} bytes)`);
  const lenBuf = new Uint8Array(8);
  readFully(fd, lenBuf, 0);
  const n = Number(new DataView(lenBuf.buffer).getBigUint64(0, true));
  if (n > size - 8 || n > 100_000_000) throw new Error(`${path}: header length ${n} is not plausible`);
  const headBuf = new Uint8Array(n);
  readFully(fd, headBuf, 8);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(headBuf));
  } catch (e) {
    throw new Error(`${path}: header is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + n;
  const dataSize = size - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') {
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!isDtype(e.dtype)) throw new Error(`${path}: tensor ${name} has unsupported dtype ${e.dtype}`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * DTYPE_BYTES[e.dtype] || begin < 0 || end > dataSize) {
      throw new Error(
        `${path}: tensor ${name} offsets [${begin}, ${end}] do not fit ${e.dtype}${JSON.stringify(e.shape)} in ${dataSize} data bytes`,
      );
    }
    tensors.set(name, { name, dtype: e.dtype, shape: e.shape, begin, end });
  }
  return { tensors, metadata, dataStart };
}

export class SafetensorsFile {
  readonly path: string;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  private fd: number | undefined;
  private readonly dataStart: number;

  private constructor(path: string, fd: number, header: Header) {
    this.path = path;
    this.fd = fd;
    this.tensors = header.tensors;
    this.metadata = header.metadata;
    this.dataStart = header.dataStart;
  }

  /** Opens the file and parses only its header. Call close() when done. */
  static open(path: string): SafetensorsFile {
    const fd = openSync(path, 'r');
    try {
      return new SafetensorsFile(path, fd, parseHeader(fd, path));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.path}: no tensor named ${name}`);
    return t;
  }

  /** Where a tensor's bytes are in the file (absolute offsets), for readers that map the file themselves. */
  byteRange(name: string): { offset: number; length: number } {
    const t = this.info(name);
    return { offset: this.dataStart + t.begin, length: t.end - t.begin };
  }

  /** The tensor in its stored dtype (F16/BF16 as raw Uint16Array words). */
  read(name: string): StoredTensor {
    const t = this.info(name);
    if (this.fd === undefined) throw new Error(`${this.path}: file is closed`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    const data = allocate(t.dtype, count);
    // Read straight into the typed array's memory: no intermediate buffer.
    readFully(
      this.fd,
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      this.dataStart + t.begin,
    );
    if (!littleEndian) throw new Error('big-endian hosts are not supported');
    return { dtype: t.dtype, shape: [...t.shape], data };
  }

  /** The tensor converted to Float32Array (fp16/bf16/ints widened; fp32 read as is). */
  readF32(name: string): { shape: number[]; data: Float32Array } {
    const t = this.read(name);
    return { shape: t.shape, data: toFloat32(t.dtype, t.data) };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
