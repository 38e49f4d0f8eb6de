import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from './errors.js';
import { ModelHolder } from './model-holder.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('ModelHolder', () => {
  it('is not ready, and refuses use with UNAVAILABLE, until a model is loaded', async () => {
    const h = new ModelHolder<string>({ load: async (v) => `model-${v}` });
    assert.equal(h.ready, false);
    await assert.rejects(
      h.use(async (m) => m),
      (e: unknown) => e instanceof ServingError && e.code === 'UNAVAILABLE',
    );
    await h.load('v1');
    assert.equal(h.ready, true);
    assert.equal(await h.use(async (m, v) => `${m}@${v}`), 'model-v1@v1');
  });

  it('keeps serving the old version while the new one loads, then switches', async () => {
    const gate = deferred();
    const h = new ModelHolder<string>({
      load: async (v) => {
        if (v === 'v2') await gate.promise;
        return `model-${v}`;
      },
    });
    await h.load('v1');
    const switching = h.load('v2');
    assert.equal(await h.use(async (m) => m), 'model-v1');
    gate.resolve();
    await switching;
    assert.equal(await h.use(async (m) => m), 'model-v2');
    assert.equal(h.version, 'v2');
  });

  it('does not dispose the old model before its in-flight requests finish', async () => {
    const disposed: string[] = [];
    const h = new ModelHolder<{ v: string; alive: boolean }>({
      load: async (v) => ({ v, alive: true }),
      dispose: (m) => {
        m.alive = false;
        disposed.push(m.v);
      },
    });
    await h.load('v1');
    const release = deferred();
    const inflight = h.use(async (m) => {
      await release.promise;
      return m.alive ? `ok ${m.v}` : 'used after dispose';
    });
    await h.load('v2');
    assert.deepEqual(disposed, [], 'v1 is still in use');
    assert.equal(await h.use(async (m) => m.v), 'v2');
    release.resolve();
    assert.equal(await inflight, 'ok v1');
    assert.deepEqual(disposed, ['v1']);
  });

  it('keeps the current version when a load fails', async () => {
    const h = new ModelHolder<string>({
      load: async (v) => {
        if (v === 'bad') throw new Error('corrupt checkpoint');
        return v;
      },
    });
    await h.load('v1');
    await assert.rejects(h.load('bad'), /corrupt checkpoint/);
    assert.equal(h.version, 'v1');
    await h.load('v3');
    assert.equal(h.version, 'v3');
  });

  it('loads only the latest of several versions published during a load', async () => {
    const loaded: string[] = [];
    const gate = deferred();
    const h = new ModelHolder<string>({
      load: async (v) => {
        loaded.push(v);
        if (v === 'v1') await gate.promise;
        return v;
      },
    });
    const first = h.load('v1');
    await new Promise((r) => setImmediate(r)); // v1 is loading now
    const all = [first, h.load('v2'), h.load('v3')];
    gate.resolve();
    await Promise.all(all);
    assert.deepEqual(loaded, ['v1', 'v3']);
    assert.equal(h.version, 'v3');
  });

  it('reloading the current version is a no-op', async () => {
    let loads = 0;
    const h = new ModelHolder<string>({
      load: async (v) => {
        loads++;
        return v;
      },
    });
    await h.load('v1');
    await h.load('v1');
    assert.equal(loads, 1);
  });
});
