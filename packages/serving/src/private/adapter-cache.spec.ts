import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdapterCache } from './adapter-cache.js';
import { ServingError } from './errors.js';

const known = new Set(['fer', 'ecpe', 'eri', 'msa']);

function cache(capacity: number, evicted: string[] = []) {
  const calls: string[] = [];
  const c = new AdapterCache<{ name: string }>({
    capacity,
    load: async (name) => {
      calls.push(name);
      await new Promise((r) => setTimeout(r, 2));
      return known.has(name) ? { name } : undefined;
    },
    onEvict: (name) => evicted.push(name),
  });
  return { c, calls };
}

describe('AdapterCache', () => {
  it('loads on demand and serves later requests from the cache', async () => {
    const { c, calls } = cache(2);
    assert.deepEqual(await c.get('fer'), { name: 'fer' });
    assert.deepEqual(await c.get('fer'), { name: 'fer' });
    assert.deepEqual(calls, ['fer']);
  });

  it('shares one load between concurrent first uses', async () => {
    const { c, calls } = cache(2);
    const [a, b] = await Promise.all([c.get('eri'), c.get('eri')]);
    assert.equal(a, b);
    assert.deepEqual(calls, ['eri']);
  });

  it('evicts the least recently used adapter beyond capacity', async () => {
    const evicted: string[] = [];
    const { c, calls } = cache(2, evicted);
    await c.get('fer');
    await c.get('ecpe');
    await c.get('fer'); // fer is now the most recent
    await c.get('eri'); // evicts ecpe
    assert.deepEqual(evicted, ['ecpe']);
    assert.deepEqual(c.loaded, ['fer', 'eri']);
    await c.get('ecpe'); // reloaded, evicts fer
    assert.deepEqual(calls, ['fer', 'ecpe', 'eri', 'ecpe']);
    assert.deepEqual(evicted, ['ecpe', 'fer']);
  });

  it('reloads an adapter after delete (a new version was published)', async () => {
    const evicted: string[] = [];
    const { c, calls } = cache(2, evicted);
    await c.get('fer');
    c.delete('fer');
    c.delete('never-loaded');
    assert.deepEqual(evicted, ['fer']);
    await c.get('fer');
    assert.deepEqual(calls, ['fer', 'fer']);
  });

  it('answers an unknown adapter with NOT_FOUND, and does not cache the miss', async () => {
    const { c, calls } = cache(2);
    await assert.rejects(c.get('nope'), (e: unknown) => {
      assert.ok(e instanceof ServingError);
      assert.equal(e.code, 'NOT_FOUND');
      assert.match(e.message, /unknown adapter 'nope'/);
      return true;
    });
    await assert.rejects(c.get('nope'));
    assert.deepEqual(calls, ['nope', 'nope']);
    assert.deepEqual(c.loaded, []);
  });

  it('refuses names that could escape a folder with INVALID_ARGUMENT', async () => {
    const { c, calls } = cache(2);
    await assert.rejects(
      c.get('../etc'),
      (e: unknown) => e instanceof ServingError && e.code === 'INVALID_ARGUMENT',
    );
    assert.deepEqual(calls, []);
  });
});
