// Specs for PushQueue and callbackStream: the queue behind streaming RPCs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callbackStream, PushQueue } from './stream.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

describe('PushQueue', () => {
  it('yields items pushed before and after the reader starts, and ends after close', async () => {
    const q = new PushQueue<number>();
    q.push(1);
    const read = collect(q.drain());
    await new Promise((r) => setTimeout(r, 5));
    q.push(2);
    q.push(3);
    q.close();
    assert.deepEqual(await read, [1, 2, 3]);
  });

  it('stops when the signal aborts, even while waiting', async () => {
    const q = new PushQueue<number>();
    const ac = new AbortController();
    q.push(1);
    const read = collect(q.drain(ac.signal));
    await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    assert.deepEqual(await read, [1]);
  });
});

describe('callbackStream', () => {
  it('streams what the callback pushes, then gives the result', async () => {
    const { items, result } = callbackStream<string, number>(async (push) => {
      push('a');
      await new Promise((r) => setTimeout(r, 5));
      push('b');
      return 2;
    });
    assert.deepEqual(await collect(items), ['a', 'b']);
    assert.equal(await result, 2);
  });

  it('ends the items when the run fails, and the result rejects', async () => {
    const { items, result } = callbackStream<string, number>(async (push) => {
      push('a');
      throw new Error('boom');
    });
    assert.deepEqual(await collect(items), ['a']);
    await assert.rejects(result, /boom/);
  });
});
