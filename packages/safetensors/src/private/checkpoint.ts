// A Hugging Face checkpoint folder: either one model.safetensors, or shards listed by
// model.safetensors.index.json ({"weight_map": {tensor: shard file}}). Opening reads only the
// headers; tensors are read one by one on demand.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DTYPE_BYTES } from './dtypes.js';
import { SafetensorsFile, type StoredTensor, type TensorInfo } from './file.js';
import { type TensorToWrite, writeSafetensors } from './writer.js';

export class Checkpoint {
  readonly dir: string;
  private readonly files: SafetensorsFile[];
  private readonly where = new Map<string, SafetensorsFile>();

  private constructor(dir: string, files: SafetensorsFile[]) {
    this.dir = dir;
    this.files = files;
    for (const f of files) for (const n of f.tensors.keys()) this.where.set(n, f);
  }

  /**
   * Opens `dir` (or a single .safetensors path). With an index, every shard it names is opened
   * and every tensor the index lists must be in its shard.
   */
  static open(dirOrFile: string, prefix = 'model'): Checkpoint {
    if (dirOrFile.endsWith('.safetensors'))
      return new Checkpoint(dirOrFile, [SafetensorsFile.open(dirOrFile)]);
    const index = join(dirOrFile, `${prefix}.safetensors.index.json`);
    if (existsSync(index)) {
      const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> })
        .weight_map;
      const shardNames = [...new Set(Object.values(map))].sort();
      const files: SafetensorsFile[] = [];
      try {
        for (const s of shardNames) files.push(SafetensorsFile.open(join(dirOrFile, s)));
      } catch (e) {
        for (const f of files) f.close();
        throw e;
      }
      const ck = new Checkpoint(dirOrFile, files);
      for (const [name, shard] of Object.entries(map)) {
        if (ck.where.get(name)?.path !== join(dirOrFile, shard)) {
          ck.close();
          throw new Error(`${index}: tensor ${name} is listed in ${shard} but is not in that shard`);
        }
      }
      return ck;
    }
    const single = join(dirOrFile, `${prefix}.safetensors`);
    if (!existsSync(single))
      throw new Error(`${dirOrFile}: neither ${prefix}.safetensors nor its index exists`);
    return new Checkpoint(dirOrFile, [SafetensorsFile.open(single)]);
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  info(name: string): TensorInfo {
    const f = this.where.get(name);
    if (!f) throw new Error(`${this.dir}: checkpoint has no tensor named ${name}`);
    return f.info(name);
  }

  /** The file and byte range holding a tensor (for ONNX external data that points into the shard). */
  fileRange(name: string): { path: string; offset: number; length: number; dtype: TensorInfo['dtype'] } {
    const info = this.info(name);
    const f = this.where.get(name)!;
    return { path: f.path, ...f.byteRange(name), dtype: info.dtype };
  }

  read(name: string): StoredTensor {
    this.info(name);
    return this.where.get(name)!.read(name);
  }

  readF32(name: string): { shape: number[]; data: Float32Array } {
    this.info(name);
    return this.where.get(name)!.readF32(name);
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}

/**
 * Writes `tensors` as HF shards of at most `maxShardBytes` each (a tensor larger than that gets
 * its own shard) plus model.safetensors.index.json; one shard is written as model.safetensors.
 */
export function writeCheckpoint(
  dir: string,
  tensors: Record<string, TensorToWrite>,
  opts: { maxShardBytes?: number; prefix?: string; metadata?: Record<string, string> } = {},
): string[] {
  const max = opts.maxShardBytes ?? 5 * 2 ** 30;
  const prefix = opts.prefix ?? 'model';
  const metadata = opts.metadata ?? { format: 'pt' };
  mkdirSync(dir, { recursive: true });
  const shards: string[][] = [[]];
  let size = 0;
  let total = 0;
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name];
    const bytes = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    total += bytes;
    if (size > 0 && size + bytes > max) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(name);
    size += bytes;
  }
  const pick = (names: string[]) => Object.fromEntries(names.map((n) => [n, tensors[n]]));
  if (shards.length === 1) {
    writeSafetensors(join(dir, `${prefix}.safetensors`), pick(shards[0]), metadata);
    return [`${prefix}.safetensors`];
  }
  const n = shards.length;
  const pad = (i: number) => String(i).padStart(5, '0');
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  shards.forEach((names, i) => {
    const file = `${prefix}-${pad(i + 1)}-of-${pad(n)}.safetensors`;
    writeSafetensors(join(dir, file), pick(names), metadata);
    for (const name of names) weightMap[name] = file;
    files.push(file);
  });
  writeFileSync(
    join(dir, `${prefix}.safetensors.index.json`),
    `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`,
  );
  return files;
}
