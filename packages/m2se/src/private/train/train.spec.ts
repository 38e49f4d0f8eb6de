import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { learningRate, stageLrSchedule } from '../lr-schedule.js';
import { BigramEngine, byteTokenizer } from './bigram-engine.js';
import {
  BlobCheckpointStore,
  type Checkpoint,
  DirectoryCheckpointStore,
  decodeTensors,
  encodeTensors,
  MemoryBlobStore,
} from './checkpoint-store.js';
import { collate, encodeExample, IGNORE_INDEX } from './encode.js';
import type { TrainBatch, TrainEngine } from './engine.js';
import { readEmtShards } from './examples.js';
import { toyRecipe, toyTrainOptions } from './fixtures.js';
import { lossCurveData, type StepLog, train } from './loop.js';

const tmp = mkdtempSync(join(tmpdir(), 'm2se-train-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(tmp, `run-${n++}`);

/** The fields of the loss log that must match exactly between runs. */
const curve = (h: StepLog[]) =>
  h.map((s) => [s.globalStep, s.stage, s.lr, s.losses, s.weights, s.examples, s.tokens]);

class CrashingEngine implements TrainEngine {
  private calls = 0;
  constructor(
    private readonly inner: TrainEngine,
    private readonly crashAtCall: number,
  ) {}
  microStep(b: TrainBatch) {
    if (++this.calls === this.crashAtCall) throw new Error('simulated crash');
    return this.inner.microStep(b);
  }
  saveState() {
    return this.inner.saveState();
  }
  loadState(s: Parameters<TrainEngine['loadState']>[0]) {
    return this.inner.loadState(s);
  }
}

describe('encode and collate', () => {
  it('labels only the response (unshifted) and cuts the middle of a long prompt', () => {
    const e = encodeExample(
      byteTokenizer,
      { query: 'hi', response: 'ok' },
      { maxSeqLen: 64, format: { prompt: (q) => `${q}:`, completion: (r) => r }, eosId: 3 },
    );
    // tokens: h i : o k <eos>; labels (unshifted) only on the answer
    assert.deepEqual(e.inputIds, [104, 105, 58, 111, 107, 3]);
    assert.deepEqual(e.labels, [IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 111, 107, 3]);
    assert.equal(e.counted, 3);
    const lm = encodeExample(
      byteTokenizer,
      { query: 'hi', response: 'ok' },
      { maxSeqLen: 64, format: { prompt: (q) => `${q}:`, completion: (r) => r }, promptLoss: true },
    );
    assert.deepEqual(lm.labels, lm.inputIds, 'language-model pre-training counts the prompt too');
    assert.equal(lm.counted, 4);
    const long = encodeExample(byteTokenizer, { query: 'x'.repeat(100), response: 'yes' }, { maxSeqLen: 10 });
    assert.equal(long.inputIds.length, 10);
    assert.deepEqual(long.inputIds.slice(-4), [...byteTokenizer.encode('yes\n')]);
    const mid = encodeExample(
      byteTokenizer,
      { query: `HEAD${'m'.repeat(100)}TAIL`, response: 'a' },
      { maxSeqLen: 18, format: { prompt: (q) => q, completion: (r) => r } },
    );
    // room 17: 4 tokens from the start, 13 from the end, then the answer
    assert.equal(new TextDecoder().decode(Uint8Array.from(mid.inputIds)), 'HEADmmmmmmmmmTAILa');
  });

  it('pads to the longest row and carries each example scale and counted tokens', () => {
    const fmt = { prompt: (q: string) => q, completion: (r: string) => r };
    const a = encodeExample(byteTokenizer, { query: 'q', response: 'abc' }, { maxSeqLen: 64, format: fmt });
    const b = encodeExample(byteTokenizer, { query: 'q', response: 'a' }, { maxSeqLen: 64, format: fmt });
    const c = collate([a, b], [0.25, 0.75], 0);
    assert.deepEqual(c.attentionMask, [
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ]);
    assert.deepEqual(c.inputIds[1], [113, 97, 0, 0]);
    assert.deepEqual(c.labels[1], [IGNORE_INDEX, 97, IGNORE_INDEX, IGNORE_INDEX]);
    assert.deepEqual([c.exampleScales, c.counted, c.tokens], [[0.25, 0.75], [3, 1], 6]);
  });
});

describe('EMT shards', () => {
  it('reads per-task and mixed shards, keeping only the train split', async () => {
    const root = freshDir();
    mkdirSync(join(root, 'er'), { recursive: true });
    const line = (o: object) => `${JSON.stringify(o)}\n`;
    writeFileSync(
      join(root, 'er/train-00000.jsonl'),
      line({
        id: 'a',
        task: 'er',
        split: 'train',
        query: 'q1',
        response: 'Joy.',
        videos: ['MELD/train/dia0_utt0.mp4'],
      }) + line({ id: 'b', task: 'er', split: 'train', query: 'q2', response: 'Anger.' }),
    );
    writeFileSync(
      join(root, 'mixed.jsonl'),
      line({ task: 'msa', split: 'dev', query: 'q', response: 'x' }) +
        line({ task: 'ecpe', query: 'q', response: '(1, 2)' }),
    );
    const got = await readEmtShards(root, { ER: ['er/train-00000.jsonl'], '*': ['mixed.jsonl'] });
    assert.deepEqual(
      got.ER?.map((e) => [e.id, e.response, e.videos]),
      [
        ['a', 'Joy.', ['MELD/train/dia0_utt0.mp4']],
        ['b', 'Anger.', undefined],
      ],
    );
    assert.deepEqual(
      got.ECPE?.map((e) => e.response),
      ['(1, 2)'],
    );
    assert.equal(got.MSA, undefined, 'the dev record is skipped');
  });

  it('fails with file and line on a malformed record', async () => {
    const root = freshDir();
    mkdirSync(root, { recursive: true });
    writeFileSync(
      join(root, 'bad.jsonl'),
      '{"task":"er","query":"q","response":"r"}\n{oops\n{"task":"xx","query":"q","response":"r"}\n',
    );
    await assert.rejects(
      readEmtShards(root, { '*': ['bad.jsonl'] }),
      /bad\.jsonl:2: not JSON[\s\S]*bad\.jsonl:3: unknown task "xx"/,
    );
    await assert.rejects(
      readEmtShards(root, { MSA: ['bad.jsonl'] }),
      /bad\.jsonl:1: a ER record in a MSA shard/,
    );
  });
});

describe('training loop', () => {
  it('runs both stages with the stage schedules, logs weights per step, and lowers the loss', async () => {
    const opts = toyTrainOptions();
    const seen: number[] = [];
    const r = await train({ ...opts, onStep: (p) => void seen.push(p.globalStep) });
    assert.ok(r.completed);
    assert.equal(r.steps, r.totalSteps);
    // stage 1: 30 samples / 3 = 10 micro-batches / 2 = 5 steps x 2 epochs; stage 2: 8 -> 4 x 2
    assert.equal(r.totalSteps, 18);
    assert.deepEqual(seen, [...Array(18).keys()]);
    const recipe = toyRecipe();
    for (const s of r.history) {
      const plan = { totalSteps: s.stage === 0 ? 10 : 8, warmupSteps: 2 };
      assert.equal(s.lr, learningRate(s.step, stageLrSchedule(recipe, plan)));
    }
    assert.deepEqual(Object.keys(r.history[0].weights), ['MSA', 'ER', 'FER']);
    assert.deepEqual(Object.keys(r.history[17].weights), ['MSA', 'ER', 'ERI', 'ECPE']);
    const moved = r.history.filter((s) =>
      Object.values(s.weights).some((w) => Math.abs((w as number) - 1) > 1e-9),
    );
    assert.ok(moved.length > 0, 'DWA moved the weights');
    for (const s of r.history) {
      const sum = Object.values(s.weights).reduce((a, b) => (a as number) + (b as number), 0) as number;
      assert.ok(Math.abs(sum - Object.keys(s.weights).length) < 1e-9);
    }
    const plot = lossCurveData(r.history);
    assert.deepEqual(plot.stageBoundaries, [{ step: 10, label: 'stage 2: multitask-reasoning-finetuning' }]);
    assert.equal(plot.points.filter((p) => p.step === 0).length, Object.keys(r.history[0].losses).length);
    const first = r.history[0].loss;
    const lastStage1 = r.history[9].loss;
    assert.ok(lastStage1 < first * 0.8, `loss fell in stage 1: ${first} -> ${lastStage1}`);
  });

  it('after a crash, resumes from the last checkpoint with the same data order and loss curve', async () => {
    const reference = await train(toyTrainOptions());
    const dir = freshDir();
    const store = new DirectoryCheckpointStore(dir);
    const crashing = toyTrainOptions();
    // 18 steps x 2 micro-batches: call 23 is in step 11, after the checkpoint of step 10
    crashing.engine = new CrashingEngine(crashing.engine, 23);
    await assert.rejects(train({ ...crashing, store, checkpointEvery: 4 }), /simulated crash/);
    assert.equal((await store.latest())?.step, 10, 'stage 1 ended at step 10 and was checkpointed');
    // a fresh process: new engine (other init would show), same store
    const resumed = await train({ ...toyTrainOptions(), store, checkpointEvery: 4 });
    assert.equal(resumed.resumedFrom, 10);
    assert.ok(resumed.completed);
    assert.deepEqual(curve(resumed.history), curve(reference.history));
  });

  it('stops on request with a checkpoint and continues to the same parameters as an unbroken run', async () => {
    const unbroken = toyTrainOptions();
    await train(unbroken);
    const store = new DirectoryCheckpointStore(freshDir());
    const part = await train({ ...toyTrainOptions(), store, stopAfterStep: 7 });
    assert.deepEqual([part.steps, part.completed], [7, false]);
    const rest = toyTrainOptions();
    const done = await train({ ...rest, store });
    assert.ok(done.completed);
    const want = await unbroken.engine.saveState();
    const got = await rest.engine.saveState();
    assert.deepEqual(got.W.data, want.W.data, 'bit-identical parameters');
    assert.deepEqual(got['adamw.v.W'].data, want['adamw.v.W'].data, 'and optimizer state');
  });

  it('survives kill -9: a killed trainer loses at most the steps since its last checkpoint', async () => {
    const reference = await train(toyTrainOptions());
    const dir = freshDir();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=source',
        fileURLToPath(new URL('./kill-child.ts', import.meta.url)),
        dir,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let printed = 0;
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        for (const m of chunk.matchAll(/step (\d+)/g)) printed = Number(m[1]);
        if (printed >= 7 && child.exitCode === null) child.kill('SIGKILL');
      });
    });
    assert.equal(child.signalCode, 'SIGKILL', 'the child was killed before it finished');
    const store = new DirectoryCheckpointStore(dir);
    const latest = (await store.latest())?.step ?? 0;
    assert.ok(
      latest >= printed - 2 && latest <= printed,
      `checkpoint ${latest} within 2 steps of ${printed}`,
    );
    const resumed = await train({ ...toyTrainOptions(), store, checkpointEvery: 2 });
    assert.equal(resumed.resumedFrom, latest);
    assert.deepEqual(curve(resumed.history), curve(reference.history));
  });

  it('stops at the step boundary after an abort, with a checkpoint there', async () => {
    const store = new DirectoryCheckpointStore(freshDir());
    const abort = new AbortController();
    const r = await train({
      ...toyTrainOptions(),
      store,
      signal: abort.signal,
      onStep: (p) => {
        if (p.globalStep === 2) abort.abort();
      },
    });
    assert.deepEqual([r.steps, r.completed, (await store.latest())?.step], [3, false, 3]);
    const again = await train({ ...toyTrainOptions(), store, stopAfterStep: 3 });
    assert.deepEqual(
      [again.steps, again.completed, again.history.length],
      [3, false, 3],
      'nothing more to do',
    );
  });

  it('refuses to resume when the examples encode differently (another tokenizer)', async () => {
    const store = new DirectoryCheckpointStore(freshDir());
    await train({ ...toyTrainOptions(), store, stopAfterStep: 2 });
    const other = toyTrainOptions();
    await assert.rejects(
      train({
        ...other,
        store,
        encode: (ex) =>
          encodeExample(byteTokenizer, ex, {
            maxSeqLen: 64,
            format: { prompt: (q) => q, completion: (r) => r },
          }),
      }),
      /cannot resume: the examples encode differently/,
    );
  });

  it('refuses a checkpoint of another recipe', async () => {
    const store = new DirectoryCheckpointStore(freshDir());
    await train({ ...toyTrainOptions(), store, stopAfterStep: 1 });
    const other = { ...toyRecipe(), name: 'other' };
    await assert.rejects(
      train({ ...toyTrainOptions(other), store }),
      /checkpoint is of recipe "toy-m2se", not "other"/,
    );
  });
});

describe('checkpoint store', () => {
  it('keeps the newest checkpoints, ignores half-written ones, and round-trips tensors', async () => {
    const dir = freshDir();
    const store = new DirectoryCheckpointStore(dir, 2);
    const t = encodeTensors({
      a: { shape: [2], data: Float32Array.of(1.5, -2) },
      b: { shape: [1, 1], data: Float32Array.of(3) },
    });
    const ck = (step: number): Checkpoint => ({
      step,
      files: { 'tensors.json': t.index, 'tensors.bin': t.data },
    });
    for (const s of [1, 2, 3]) await store.save(ck(s));
    mkdirSync(join(dir, '.tmp-step-000000009-1')); // a crash mid-write
    const latest = await store.latest();
    assert.equal(latest?.step, 3);
    const back = decodeTensors(latest!.files['tensors.json'], latest!.files['tensors.bin']);
    assert.deepEqual(back.a, { shape: [2], data: Float32Array.of(1.5, -2) });
    assert.deepEqual(back.b.data, Float32Array.of(3));
    const { readdirSync } = await import('node:fs');
    assert.deepEqual(
      readdirSync(dir)
        .filter((n) => n.startsWith('step-'))
        .sort(),
      ['step-000000002', 'step-000000003'],
    );
    assert.throws(
      () => encodeTensors({ x: { shape: [3], data: new Float32Array(2) } }),
      /shape \[3\] but 2 values/,
    );
  });

  it('in a blob store: ignores an upload without its done marker, keeps the newest, resumes a run', async () => {
    const blobs = new MemoryBlobStore();
    const store = new BlobCheckpointStore(blobs, 'runs/r1', 2);
    const file = (s: string) => new TextEncoder().encode(s);
    for (const step of [1, 2, 3])
      await store.save({ step, files: { 'trainer.json': file(`{"s":${step}}`) } });
    await blobs.put('runs/r1/step-000000009/trainer.json', file('half-written'));
    const latest = await store.latest();
    assert.equal(latest?.step, 3);
    assert.equal(new TextDecoder().decode(latest!.files['trainer.json']), '{"s":3}');
    assert.deepEqual(
      (await blobs.list('runs/r1/')).filter((k) => k.endsWith('.done')),
      ['runs/r1/step-000000002.done', 'runs/r1/step-000000003.done'],
    );
    assert.equal(await new BlobCheckpointStore(blobs, 'runs/r2').latest(), undefined);
    // the loop on a blob store: stop, then resume to the same curve as an unbroken run
    const reference = await train(toyTrainOptions());
    const runStore = new BlobCheckpointStore(blobs, 'runs/toy');
    await train({ ...toyTrainOptions(), store: runStore, stopAfterStep: 5 });
    const resumed = await train({ ...toyTrainOptions(), store: runStore });
    assert.equal(resumed.resumedFrom, 5);
    assert.deepEqual(curve(resumed.history), curve(reference.history));
  });

  it('the bigram engine restores exactly', async () => {
    const e = new BigramEngine({ vocabSize: 16, seed: 1 });
    const batch = {
      ...collate([{ inputIds: [1, 2, 3], labels: [IGNORE_INDEX, 2, 3], counted: 2 }], [1], 0),
      tasks: ['ER' as const],
      examples: [],
      seed: 0,
      lr: 0.1,
      accumulationIndex: 0,
      accumulationSize: 1,
      gradAccumulation: 1,
      endsStep: true,
    };
    const before = await e.microStep(batch);
    const saved = await e.saveState();
    const f = new BigramEngine({ vocabSize: 16, seed: 99 });
    await f.loadState(saved);
    const [x, y] = [await f.microStep(batch), await e.microStep(batch)];
    assert.deepEqual(x, y);
    assert.ok(y[0] < before[0], 'the update lowered the loss');
  });
});
