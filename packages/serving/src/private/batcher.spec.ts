import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BatchInfo, DynamicBatcher } from './batcher.js';
import { ExhaustedError, ServingError } from './errors.js';

/** A model call whose completion the test controls. */
function gatedRun() {
  const calls: { inputs: number[]; release: () => void; fail: (e: Error) => void }[] = [];
  const run = (inputs: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      calls.push({ inputs, release: () => resolve(inputs.map((x) => x * 10)), fail: reject });
    });
  return { calls, run };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('DynamicBatcher', () => {
  it('runs a full batch at once, without waiting for maxWaitMs', async () => {
    const { calls, run } = gatedRun();
    const b = new DynamicBatcher<number, number>({ maxBatchSize: 3, maxWaitMs: 60_000, maxQueue: 10, run });
    const outs = [1, 2, 3].map((x) => b.submit(x));
    await tick();
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0].inputs, [1, 2, 3]);
    calls[0].release();
    assert.deepEqual(await Promise.all(outs), [10, 20, 30]);
  });

  it('runs a partial batch once the oldest request has waited maxWaitMs', async () => {
    const { calls, run } = gatedRun();
    const b = new DynamicBatcher<number, number>({ maxBatchSize: 8, maxWaitMs: 20, maxQueue: 10, run });
    const out = b.submit(7);
    await tick();
    assert.equal(calls.length, 0, 'a lone request waits for company');
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(calls.length, 1);
    calls[0].release();
    assert.equal(await out, 70);
  });

  it('queues while the worker is busy and batches what piled up', async () => {
    const { calls, run } = gatedRun();
    const sizes: number[] = [];
    const b = new DynamicBatcher<number, number>({
      maxBatchSize: 4,
      maxWaitMs: 0,
      maxQueue: 10,
      run,
      onBatch: (i: BatchInfo) => sizes.push(i.size),
    });
    const first = b.submit(1);
    await tick();
    const rest = [2, 3, 4, 5, 6].map((x) => b.submit(x));
    assert.equal(b.queueDepth, 5);
    calls[0].release();
    await first;
    await tick();
    assert.deepEqual(calls[1].inputs, [2, 3, 4, 5]);
    calls[1].release();
    await tick();
    await tick();
    assert.deepEqual(calls[2].inputs, [6]);
    calls[2].release();
    assert.deepEqual(await Promise.all(rest), [20, 30, 40, 50, 60]);
    assert.deepEqual(sizes, [1, 4, 1]);
  });

  it('never mixes keys in one batch', async () => {
    const seen: string[][] = [];
    const b = new DynamicBatcher<string, string>({
      maxBatchSize: 4,
      maxWaitMs: 5,
      maxQueue: 10,
      key: (s) => s[0],
      run: async (inputs) => {
        seen.push(inputs);
        return inputs;
      },
    });
    await Promise.all(['a1', 'b1', 'a2', 'b2', 'a3'].map((s) => b.submit(s)));
    assert.deepEqual(seen, [
      ['a1', 'a2', 'a3'],
      ['b1', 'b2'],
    ]);
  });

  it('refuses requests beyond maxQueue with an ExhaustedError carrying retry-after', async () => {
    const { calls, run } = gatedRun();
    const b = new DynamicBatcher<number, number>({ maxBatchSize: 1, maxWaitMs: 0, maxQueue: 2, run });
    const running = b.submit(1);
    await tick();
    const queued = [b.submit(2), b.submit(3)];
    await assert.rejects(b.submit(4), (e: unknown) => {
      assert.ok(e instanceof ExhaustedError);
      assert.equal(e.code, 'RESOURCE_EXHAUSTED');
      assert.ok(e.retryAfterMs >= 1);
      return true;
    });
    for (let i = 0; i < 3; i++) {
      calls[i].release();
      await tick();
      await tick();
    }
    assert.deepEqual(await Promise.all([running, ...queued]), [10, 20, 30]);
  });

  it('a request cancelled while queued frees its slot and never runs', async () => {
    const { calls, run } = gatedRun();
    const b = new DynamicBatcher<number, number>({ maxBatchSize: 1, maxWaitMs: 0, maxQueue: 1, run });
    const running = b.submit(1);
    await tick();
    const ac = new AbortController();
    const cancelled = b.submit(2, { signal: ac.signal });
    await assert.rejects(b.submit(3), ExhaustedError, 'the queue is full');
    ac.abort();
    await assert.rejects(cancelled, (e: unknown) => e instanceof ServingError && e.code === 'CANCELLED');
    assert.equal(b.queueDepth, 0);
    const next = b.submit(4); // the freed slot is usable
    calls[0].release();
    await running;
    await tick();
    calls[1].release();
    assert.equal(await next, 40);
    assert.deepEqual(
      calls.map((c) => c.inputs),
      [[1], [4]],
      'the cancelled request never reached the model',
    );
  });

  it('a request whose deadline passes while queued fails with DEADLINE_EXCEEDED and never runs', async () => {
    const { calls, run } = gatedRun();
    const b = new DynamicBatcher<number, number>({ maxBatchSize: 1, maxWaitMs: 0, maxQueue: 4, run });
    const running = b.submit(1);
    await tick();
    const late = b.submit(2, { deadline: Date.now() + 10 });
    await assert.rejects(late, (e: unknown) => e instanceof ServingError && e.code === 'DEADLINE_EXCEEDED');
    assert.equal(b.queueDepth, 0);
    calls[0].release();
    assert.equal(await running, 10);
    await tick();
    assert.equal(calls.length, 1);
  });

  it('answers a cancelled running request at once and discards its result', async () => {
    const { calls, run } = gatedRun();
    const b = new DynamicBatcher<number, number>({ maxBatchSize: 2, maxWaitMs: 0, maxQueue: 4, run });
    const ac = new AbortController();
    const a = b.submit(1, { signal: ac.signal });
    await tick();
    ac.abort();
    await assert.rejects(a, (e: unknown) => e instanceof ServingError && e.code === 'CANCELLED');
    calls[0].release();
  });

  it('fails every request of a batch whose model call fails, and keeps serving', async () => {
    const { calls, run } = gatedRun();
    const b = new DynamicBatcher<number, number>({ maxBatchSize: 2, maxWaitMs: 0, maxQueue: 4, run });
    const a = b.submit(1);
    await tick();
    calls[0].fail(new Error('boom'));
    await assert.rejects(a, /boom/);
    const c = b.submit(3);
    await tick();
    calls[1].release();
    assert.equal(await c, 30);
  });

  it('rejects a batch whose output count does not match with INTERNAL', async () => {
    const b = new DynamicBatcher<number, number>({
      maxBatchSize: 2,
      maxWaitMs: 0,
      maxQueue: 4,
      run: async () => [],
    });
    await assert.rejects(b.submit(1), (e: unknown) => e instanceof ServingError && e.code === 'INTERNAL');
  });

  it('runs up to `concurrency` batches at once', async () => {
    const { calls, run } = gatedRun();
    const b = new DynamicBatcher<number, number>({
      maxBatchSize: 1,
      maxWaitMs: 0,
      maxQueue: 4,
      concurrency: 2,
      run,
    });
    const outs = [1, 2, 3].map((x) => b.submit(x));
    await tick();
    assert.equal(calls.length, 2);
    assert.equal(b.runningBatches, 2);
    calls[1].release();
    await tick();
    assert.equal(calls.length, 3);
    calls[0].release();
    calls[2].release();
    assert.deepEqual(await Promise.all(outs), [10, 20, 30]);
  });

  it('close() fails waiting requests with UNAVAILABLE and refuses new ones', async () => {
    const { calls, run } = gatedRun();
    const b = new DynamicBatcher<number, number>({ maxBatchSize: 1, maxWaitMs: 0, maxQueue: 4, run });
    const running = b.submit(1);
    await tick();
    const waiting = b.submit(2);
    b.close();
    await assert.rejects(waiting, (e: unknown) => e instanceof ServingError && e.code === 'UNAVAILABLE');
    await assert.rejects(b.submit(3), (e: unknown) => e instanceof ServingError && e.code === 'UNAVAILABLE');
    calls[0].release();
    assert.equal(await running, 10);
  });
});
