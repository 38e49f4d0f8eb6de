import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  bf16ToF32,
  Checkpoint,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  fromFloat32,
  SafetensorsFile,
  serializeSafetensors,
  writeCheckpoint,
  writeSafetensors,
} from './index.js';
import { sharedDirForTests } from './private/shared-dir.js';

const fixtures = join(sharedDirForTests(), 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'st-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('reading the PyTorch fixtures', () => {
  it('reads the llama-tiny header and tensors with values numpy reads', () => {
    const ck = Checkpoint.open(join(fixtures, 'llama-tiny'));
    assert.equal(ck.names().length, 21);
    assert.deepEqual(ck.info('model.layers.0.self_attn.k_proj.weight').shape, [32, 64]);
    const emb = ck.readF32('model.embed_tokens.weight');
    assert.deepEqual(emb.shape, [320, 64]);
    const row5 = Array.from(emb.data.subarray(5 * 64, 5 * 64 + 4));
    const expected = [0.13044385612010956, -0.17452405393123627, 0.007050750311464071, -0.06730606406927109];
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(row5[i] - expected[i]) < 1e-7);
    let sum = 0;
    for (const v of emb.data) sum += v;
    assert.ok(Math.abs(sum - -23.297964932035484) < 1e-4);
    ck.close();
  });

  it('reads int64 tensors as BigInt64Array', () => {
    const f = SafetensorsFile.open(join(fixtures, 'llama-tiny', 'reference.safetensors'));
    const ids = f.read('greedy_ids');
    assert.equal(ids.dtype, 'I64');
    assert.deepEqual(
      Array.from(ids.data as BigInt64Array, Number),
      [183, 244, 31, 29, 307, 197, 161, 86, 45, 45, 310, 218, 149, 45],
    );
    assert.throws(() => f.read('nope'), /no tensor named nope/);
    f.close();
  });
});

describe('fp16 and bf16', () => {
  it('converts known half-precision values both ways', () => {
    assert.equal(f32ToF16(1), 0x3c00);
    assert.equal(f32ToF16(-2), 0xc000);
    assert.equal(f32ToF16(65504), 0x7bff);
    assert.equal(f32ToF16(1e6), 0x7c00);
    assert.equal(f16ToF32(0x0001), 2 ** -24);
    assert.equal(f32ToF16(2 ** -24), 0x0001);
    assert.equal(f16ToF32(0x3555), 0.333251953125);
    assert.ok(Number.isNaN(f16ToF32(f32ToF16(Number.NaN))));
    // round to nearest even: 1 + 2^-11 is a tie between 1 and 1+2^-10
    assert.equal(f32ToF16(1 + 2 ** -11), 0x3c00);
    assert.equal(f32ToF16(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(f32ToBf16(1), 0x3f80);
    assert.equal(bf16ToF32(0x4049), 3.140625);
    assert.equal(f32ToBf16(1 + 2 ** -8), 0x3f80); // tie -> even
    assert.equal(f32ToBf16(1 + 3 * 2 ** -8), 0x3f82);
  });

  it('reads fp16 and bf16 files as Float32Array within their precision', () => {
    const src = new Float32Array(1000).map((_, i) => Math.sin(i) * 3);
    for (const dtype of ['F16', 'BF16'] as const) {
      const path = join(tmp, `${dtype}.safetensors`);
      writeSafetensors(path, { w: { dtype, shape: [10, 100], data: fromFloat32(dtype, src) } });
      const f = SafetensorsFile.open(path);
      const { shape, data } = f.readF32('w');
      f.close();
      assert.deepEqual(shape, [10, 100]);
      const tol = dtype === 'F16' ? 3 * 2 ** -11 : 3 * 2 ** -8;
      for (let i = 0; i < src.length; i++)
        assert.ok(Math.abs(data[i] - src[i]) <= tol * Math.abs(src[i]) + 1e-7);
    }
  });
});

describe('writing', () => {
  it('round-trips dtypes and metadata, header padded to 8 bytes', () => {
    const tensors = {
      b: { dtype: 'I64' as const, shape: [3], data: new BigInt64Array([1n, -2n, 3n]) },
      a: { dtype: 'F32' as const, shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      c: { dtype: 'U8' as const, shape: [0], data: new Uint8Array(0) },
    };
    const path = join(tmp, 'rt.safetensors');
    writeSafetensors(path, tensors, { format: 'pt' });
    const bytes = readFileSync(path);
    assert.deepEqual(new Uint8Array(bytes), serializeSafetensors(tensors, { format: 'pt' }));
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0);
    const f = SafetensorsFile.open(path);
    assert.deepEqual(f.names(), ['a', 'b', 'c']);
    assert.deepEqual(f.metadata, { format: 'pt' });
    assert.deepEqual(Array.from(f.read('a').data as Float32Array), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(f.read('b').data as BigInt64Array), [1n, -2n, 3n]);
    assert.equal(f.read('c').data.length, 0);
    f.close();
  });

  it('rejects data whose size does not match the shape, naming the tensor', () => {
    assert.throws(
      () =>
        writeSafetensors(join(tmp, 'bad.safetensors'), {
          w: { dtype: 'F32', shape: [3, 3], data: new Float32Array(8) },
        }),
      /tensor w: F32\[3,3\] needs 36 bytes/,
    );
  });

  it('rejects a header whose offsets run past the file, naming the tensor', () => {
    const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    const path = join(tmp, 'trunc.safetensors');
    writeFileSync(path, bytes.subarray(0, bytes.length - 4));
    assert.throws(() => SafetensorsFile.open(path), /tensor w offsets/);
  });
});

describe('sharded checkpoints', () => {
  it('writes shards with an index and reads every tensor back through it', () => {
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (let i = 0; i < 7; i++) {
      tensors[`layers.${i}.weight`] = { dtype: 'F32', shape: [16, 16], data: new Float32Array(256).fill(i) };
    }
    const dir = join(tmp, 'sharded');
    const files = writeCheckpoint(dir, tensors, { maxShardBytes: 2 * 1024 + 10 });
    assert.equal(files.length, 4);
    assert.equal(files[0], 'model-00001-of-00004.safetensors');
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    assert.equal(index.metadata.total_size, 7 * 1024);
    const ck = Checkpoint.open(dir);
    assert.equal(ck.names().length, 7);
    for (let i = 0; i < 7; i++) assert.equal(ck.readF32(`layers.${i}.weight`).data[255], i);
    ck.close();
    // an index that lists a tensor in the wrong shard is refused, naming the tensor
    index.weight_map['layers.0.weight'] = files[3];
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    assert.throws(() => Checkpoint.open(dir), /tensor layers\.0\.weight is listed in model-00004-of-00004/);
  });

  it('says clearly when a folder has no checkpoint', () => {
    assert.throws(() => Checkpoint.open(tmp), /neither model\.safetensors nor its index exists/);
  });
});

describe('streaming writes and byte ranges', () => {
  it('writes tensors made one at a time, and reports where each tensor is in the file', () => {
    const made: string[] = [];
    const lazy = (name: string, values: number[]) => {
      made.push(name);
      return new Float32Array(values);
    };
    const path = join(tmp, 'lazy.safetensors');
    writeSafetensors(path, {
      a: { dtype: 'F32', shape: [3], data: () => lazy('a', [1, 2, 3]) },
      b: { dtype: 'F32', shape: [2], data: () => lazy('b', [4, 5]) },
    });
    assert.deepEqual(made, ['a', 'b']);
    const ck = Checkpoint.open(path);
    const r = ck.fileRange('b');
    const bytes = readFileSync(path).subarray(r.offset, r.offset + r.length);
    assert.deepEqual(
      Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + r.length))),
      [4, 5],
    );
    assert.equal(r.dtype, 'F32');
    ck.close();
  });
});
