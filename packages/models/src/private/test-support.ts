// Helpers for the spec files: fixture paths and reference tensors.
import { join } from 'node:path';
import { SafetensorsFile } from '@emoverse/safetensors';
import { sharedDirForTests } from '@emoverse/safetensors/testing';

export const FIXTURES = join(sharedDirForTests(), 'fixtures');

export function readReference(
  path: string,
): Map<string, { shape: number[]; data: Float32Array; ints?: number[] }> {
  const f = SafetensorsFile.open(path);
  const out = new Map<string, { shape: number[]; data: Float32Array; ints?: number[] }>();
  for (const n of f.names()) {
    const t = f.read(n);
    const ints = t.dtype === 'I64' ? Array.from(t.data as BigInt64Array, Number) : undefined;
    out.set(n, { shape: t.shape, data: f.readF32(n).data, ints });
  }
  f.close();
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function rows(ints: number[], width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ints.length; i += width) out.push(ints.slice(i, i + width));
  return out;
}
