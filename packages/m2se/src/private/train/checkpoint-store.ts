// Checkpoints as named byte blobs, written atomically: a crash mid-write leaves the previous checkpoint
// as the latest. The directory store is for local runs and tests; the trainer service puts the same
// blobs into the object store.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NamedTensors } from './engine.js';

export interface Checkpoint {
  /** Optimizer steps completed when it was written. */
  step: number;
  files: Record<string, Uint8Array>;
}

export interface CheckpointStore {
  save(checkpoint: Checkpoint): Promise<void>;
  /** The newest complete checkpoint, if any. */
  latest(): Promise<Checkpoint | undefined>;
}

const NAME = /^step-(\d{9})$/;

/** <dir>/step-000000012/<files>; written under a temporary name and renamed into place. */
export class DirectoryCheckpointStore implements CheckpointStore {
  constructor(
    readonly dir: string,
    private readonly keep = 2,
  ) {}

  async save(checkpoint: Checkpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const name = `step-${String(checkpoint.step).padStart(9, '0')}`;
    const tmp = join(this.dir, `.tmp-${name}-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    for (const [file, bytes] of Object.entries(checkpoint.files)) await writeFile(join(tmp, file), bytes);
    const target = join(this.dir, name);
    if (existsSync(target)) await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
    const all = await this.steps();
    for (const old of all.slice(0, Math.max(0, all.length - this.keep))) {
      await rm(join(this.dir, `step-${String(old).padStart(9, '0')}`), { recursive: true, force: true });
    }
  }

  async latest(): Promise<Checkpoint | undefined> {
    const all = await this.steps();
    const step = all[all.length - 1];
    if (step === undefined) return undefined;
    const dir = join(this.dir, `step-${String(step).padStart(9, '0')}`);
    const files: Record<string, Uint8Array> = {};
    for (const f of await readdir(dir)) files[f] = new Uint8Array(await readFile(join(dir, f)));
    return { step, files };
  }

  private async steps(): Promise<number[]> {
    if (!existsSync(this.dir)) return [];
    return (await readdir(this.dir))
      .map((n) => NAME.exec(n)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }
}

/** Tensors as one little-endian float32 blob plus a JSON index (name -> shape, offset). */
export function encodeTensors(tensors: NamedTensors): { index: Uint8Array; data: Uint8Array } {
  const names = Object.keys(tensors).sort();
  let total = 0;
  const index: Record<string, { shape: number[]; offset: number; length: number }> = {};
  for (const n of names) {
    const t = tensors[n];
    const expect = t.shape.reduce((a, b) => a * b, 1);
    if (expect !== t.data.length)
      throw new Error(`tensor ${n}: shape [${t.shape}] but ${t.data.length} values`);
    index[n] = { shape: t.shape, offset: total, length: t.data.length };
    total += t.data.length;
  }
  const data = new Float32Array(total);
  for (const n of names) data.set(tensors[n].data, index[n].offset);
  return { index: new TextEncoder().encode(JSON.stringify(index)), data: new Uint8Array(data.buffer) };
}

export function decodeTensors(index: Uint8Array, data: Uint8Array): NamedTensors {
  const idx = JSON.parse(new TextDecoder().decode(index)) as Record<
    string,
    { shape: number[]; offset: number; length: number }
  >;
  const all = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out: NamedTensors = {};
  for (const [n, e] of Object.entries(idx))
    out[n] = { shape: e.shape, data: all.slice(e.offset, e.offset + e.length) };
  return out;
}

/** A flat key -> bytes store: a NATS JetStream object store, S3, a Map (what the trainer service adapts). */
export interface BlobStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  /** Keys starting with `prefix`. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

/**
 * Checkpoints in a blob store: <prefix>/step-000000012/<file> for each file, then
 * <prefix>/step-000000012.done last. A checkpoint without its .done marker (a crash mid-upload) is
 * never read; older complete ones beyond `keep` are deleted.
 */
export class BlobCheckpointStore implements CheckpointStore {
  constructor(
    private readonly blobs: BlobStore,
    private readonly prefix: string,
    private readonly keep = 2,
  ) {}

  private name(step: number): string {
    return `${this.prefix}/step-${String(step).padStart(9, '0')}`;
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    const base = this.name(checkpoint.step);
    const files = Object.keys(checkpoint.files).sort();
    for (const f of files) await this.blobs.put(`${base}/${f}`, checkpoint.files[f]);
    await this.blobs.put(`${base}.done`, new TextEncoder().encode(JSON.stringify({ files })));
    const done = await this.completeSteps();
    for (const old of done.slice(0, Math.max(0, done.length - this.keep))) {
      const b = this.name(old);
      await this.blobs.delete(`${b}.done`); // first, so a half-deleted checkpoint is never read
      for (const k of await this.blobs.list(`${b}/`)) await this.blobs.delete(k);
    }
  }

  async latest(): Promise<Checkpoint | undefined> {
    const done = await this.completeSteps();
    const step = done[done.length - 1];
    if (step === undefined) return undefined;
    const base = this.name(step);
    const marker = await this.blobs.get(`${base}.done`);
    const { files } = JSON.parse(new TextDecoder().decode(marker)) as { files: string[] };
    const out: Record<string, Uint8Array> = {};
    for (const f of files) {
      const bytes = await this.blobs.get(`${base}/${f}`);
      if (!bytes)
        throw new Error(`checkpoint ${base}: ${f} is missing though the checkpoint is marked complete`);
      out[f] = bytes;
    }
    return { step, files: out };
  }

  private async completeSteps(): Promise<number[]> {
    const re = new RegExp(`^${this.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/step-(\\d{9})\\.done$`);
    return (await this.blobs.list(`${this.prefix}/`))
      .map((k) => re.exec(k)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }
}

/** A BlobStore in memory (tests, single-process runs). */
export class MemoryBlobStore implements BlobStore {
  readonly blobs = new Map<string, Uint8Array>();
  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.blobs.set(key, bytes.slice());
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.blobs.get(key)?.slice();
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async delete(key: string): Promise<void> {
    this.blobs.delete(key);
  }
}
