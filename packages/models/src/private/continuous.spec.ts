// Continuous batching and prefix caching against generation alone, on the llama-tiny fixture.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Generator } from './generate.js';
import { DecoderModel } from './lm.js';
import { PrefixCache } from './prefix-cache.js';
import { FIXTURES } from './test-support.js';

const model = () => DecoderModel.fromDir(join(FIXTURES, 'llama-tiny'));
const shared = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % 250);
const prompts = [
  [...shared, 5, 17, 200],
  [...shared, 100, 3],
  [...shared, 250, 251, 252, 12, 9],
  [7, 8, 9],
  [...shared, 5, 17, 201, 44],
  [...shared.slice(0, 20), 60, 61],
];
const greedy = (maxNewTokens: number) => ({ maxNewTokens, eosTokenIds: [] as number[] });

describe('DecodeLoop (continuous batching)', () => {
  it('gives every sequence the greedy tokens it gets alone, with late joiners, prefix reuse and growing slots', async () => {
    const gen = await Generator.create(model());
    const alone = [];
    for (const p of prompts) alone.push((await gen.generate([p], greedy(24))).tokens[0]);
    const loop = await gen.decodeLoop({ maxSequences: 8, memoryBytes: 1 << 26 });
    let firstTokens = 0;
    let late: Promise<unknown>[] = [];
    const early = prompts.slice(0, 3).map((prompt) =>
      loop.submit({
        prompt,
        namespace: 'v1',
        options: greedy(24),
        onToken: () => {
          // the rest arrive while the first three are already decoding
          if (++firstTokens === 4)
            late = prompts
              .slice(3)
              .map((p) => loop.submit({ prompt: p, namespace: 'v1', options: greedy(24) }));
        },
      }),
    );
    const results = (await Promise.all(early)) as Awaited<(typeof early)[number]>[];
    results.push(...((await Promise.all(late)) as typeof results));
    for (const [i, r] of results.entries()) assert.deepEqual(r.tokens, alone[i], `prompt ${i}`);
    const s = loop.stats();
    assert.ok(s.rowSteps / s.steps > 2, `rows per step ${s.rowSteps / s.steps}`);
    assert.ok(
      results.slice(1).some((r) => r.cachedTokens >= 32),
      'a later prompt reused the shared 40-token prefix',
    );
    assert.equal(results[3].cachedTokens, 0);
    assert.ok(s.prefix.hitRate > 0.3, `hit rate ${s.prefix.hitRate}`);
    assert.equal(s.active + s.waiting + s.reservedBytes, 0);
    await gen.release();
  });

  it('a short sequence leaves as soon as it ends, without waiting for the longest', async () => {
    const gen = await Generator.create(model());
    const loop = await gen.decodeLoop({ maxSequences: 4, memoryBytes: 1 << 26 });
    const order: string[] = [];
    const long = loop.submit({ prompt: prompts[0], options: greedy(24) }).then(() => order.push('long'));
    const short = loop.submit({ prompt: prompts[1], options: greedy(2) }).then(() => order.push('short'));
    await Promise.all([long, short]);
    assert.deepEqual(order, ['short', 'long']);
    await gen.release();
  });

  it('a cancelled sequence frees its cache at the next step and reports "cancelled"', async () => {
    const gen = await Generator.create(model());
    const loop = await gen.decodeLoop({ maxSequences: 4, memoryBytes: 1 << 26 });
    const ac = new AbortController();
    let seen = 0;
    const cancelled = loop.submit({
      prompt: prompts[0],
      options: greedy(50),
      signal: ac.signal,
      onToken: () => {
        if (++seen === 3) ac.abort();
      },
    });
    const other = loop.submit({ prompt: prompts[2], options: greedy(10) });
    const c = await cancelled;
    assert.equal(c.finish, 'cancelled');
    assert.ok(c.tokens.length <= 4, `stopped after ${c.tokens.length} tokens`);
    assert.equal((await other).tokens.length, 10);
    assert.equal(loop.stats().reservedBytes, 0);
    await gen.release();
  });

  it('admits only what the memory budget holds, and refuses a sequence that can never fit', async () => {
    const gen = await Generator.create(model());
    const probe = await gen.decodeLoop({ maxSequences: 8, memoryBytes: 1 << 26 });
    const perSeq = (prompts[0].length + 6) * probe.tokenBytes;
    const loop = await gen.decodeLoop({ maxSequences: 8, memoryBytes: 2 * perSeq + 100, prefixCache: false });
    let most = 0;
    const runs = [0, 0, 0, 0].map(() =>
      loop.submit({
        prompt: prompts[0],
        options: greedy(6),
        onToken: () => {
          most = Math.max(most, loop.stats().active);
        },
      }),
    );
    const done = await Promise.all(runs);
    assert.equal(most, 2);
    assert.ok(done.every((r) => r.tokens.length === 6));
    await assert.rejects(loop.submit({ prompt: prompts[0], options: greedy(200) }), /the budget is/);
    await assert.rejects(
      loop.submit({ prompt: prompts[0], options: greedy(500) }),
      /exceed the model's 256 positions/,
    );
    await gen.release();
  });
});

describe('PrefixCache', () => {
  const shape = { layers: 1, heads: 2, headDim: 4 };
  const run = (tokens: number, base: number) => {
    const a = Float32Array.from({ length: 2 * tokens * 4 }, (_, i) => base + i);
    return { keys: [a], values: [a.map((x) => -x)], tokens };
  };

  it('returns whole blocks of the exact same prefix, within one namespace only', () => {
    const cache = new PrefixCache(shape, 1 << 20, 4);
    const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const kv = run(10, 0);
    cache.insert('v1', ids, kv);
    const hit = cache.lookup('v1', [1, 2, 3, 4, 5, 6, 7, 8, 42]);
    assert.equal(hit?.tokens, 8);
    // head 1 of the hit is tokens 0..7 of head 1 of the run
    assert.deepEqual(
      [...hit!.keys[0].subarray(8 * 4, 8 * 4 + 4)],
      [...kv.keys[0].subarray(10 * 4, 10 * 4 + 4)],
    );
    assert.equal(cache.lookup('v2', ids), undefined);
    assert.equal(cache.lookup('v1', [9, 2, 3, 4, 5]), undefined);
    assert.equal(cache.lookup('v1', ids, 7)?.tokens, 4);
  });

  it('evicts the least recently used blocks under its byte bound and counts the hit rate', () => {
    const cache = new PrefixCache(shape, 0, 4);
    cache.resize(3 * cache.blockBytes);
    cache.insert('v', [1, 1, 1, 1, 2, 2, 2, 2], run(8, 0));
    cache.insert('v', [3, 3, 3, 3], run(4, 100));
    cache.lookup('v', [1, 1, 1, 1, 2, 2, 2, 2]);
    cache.insert('v', [4, 4, 4, 4], run(4, 200));
    assert.equal(cache.stats().blocks, 3);
    assert.equal(cache.lookup('v', [3, 3, 3, 3]), undefined, 'the least recently used block went');
    assert.equal(cache.lookup('v', [1, 1, 1, 1, 2, 2, 2, 2])?.tokens, 8);
    const s = cache.stats();
    assert.equal(s.hitTokens, 16);
    assert.equal(s.lookedUpTokens, 20);
    cache.resize(0);
    assert.equal(cache.stats().bytes, 0);
  });
});
