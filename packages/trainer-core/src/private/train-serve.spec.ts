// One prompt path from training to serving: a model trained a few steps on EMT records, saved, and
// served by the gateway's code (serving's EmoVerseTaskModel and TaskEngine) answers as the trainer's
// own encoding of the same records does: the same prompt tokens, label scores within 1e-4, the same
// labels, and the same generated ECPE answers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adamw } from '@emoverse/autograd';
import type { EmtRecord } from '@emoverse/emt';
import { chatTemplateFormat, encodeExample } from '@emoverse/m2se';
import { EmoVerseLM } from '@emoverse/models';
import {
  createTaskModel,
  EMOTION_LABELS,
  type EmoVerseTaskModel,
  labelAnswer,
  SENTIMENT_LABELS,
} from '@emoverse/serving';
import { ensureEmt } from './data.js';
import { servingEngine, splitRecords } from './evaluate.js';

const shared = process.env.EMOVERSE_SHARED
  ? resolve(process.env.EMOVERSE_SHARED)
  : resolve(import.meta.dirname, '../../../../../shared');
const tmp = mkdtempSync(join(tmpdir(), 'train-serve-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const MAX_SEQ_LEN = 512;

let trained: EmoVerseLM;
let modelDir: string;
const records: Record<'er' | 'msa' | 'ecpe', EmtRecord[]> = { er: [], msa: [], ecpe: [] };

/** The prompt ids the trainer made for a record (encodeExample with the recipe's format and length). */
function trainerPrompt(lm: EmoVerseLM, query: string, response: string): number[] {
  const enc = encodeExample(
    lm.tokenizer,
    { query, response },
    { maxSeqLen: MAX_SEQ_LEN, format: chatTemplateFormat(lm.tokenizer), eosId: lm.eosId },
  );
  return enc.inputIds.slice(
    0,
    enc.labels.findIndex((l) => l !== -100),
  );
}

before(async () => {
  const emt = await ensureEmt(shared, join(tmp, 'work'));
  const trainRecs: EmtRecord[] = [];
  for (const t of ['er', 'msa', 'ecpe'] as const) {
    trainRecs.push(...(await splitRecords(emt, t, 'train', 64)));
    records[t] = await splitRecords(emt, t, 'test', t === 'ecpe' ? 200 : 60);
  }
  const lm = EmoVerseLM.createNano({
    corpus: trainRecs.flatMap((r) => [r.query, r.response]),
    vocabSize: 400,
    seed: 5,
  });
  const trainer = await lm.trainer({ lora: false, trainBase: true, optimizer: adamw({ lr: 3e-3 }) });
  for (let s = 0; s < 6; s++) {
    const batch = trainRecs.slice((s * 16) % trainRecs.length, ((s * 16) % trainRecs.length) + 16);
    await trainer.step(
      lm.trainBatch(
        batch.map((r) => ({ promptIds: trainerPrompt(lm, r.query, r.response), answer: r.response })),
      ),
    );
  }
  trained = lm.withParameters(await trainer.parameters()).withContextLength(MAX_SEQ_LEN);
  // ECPE: conversations short enough that neither side cuts them (serving keeps 16 tokens for the answer)
  records.ecpe = records.ecpe.filter(
    (r) => trainerPrompt(lm, r.query, r.response).length <= MAX_SEQ_LEN - 32,
  );
  await trainer.release();
  modelDir = join(tmp, 'model');
  trained.save(modelDir);
});

after(async () => {
  await trained?.release();
});

describe('train → save → serve', () => {
  it('asks each record with the prompt tokens the trainer made', async () => {
    const served = (await createTaskModel({ dir: modelDir })) as EmoVerseTaskModel;
    try {
      for (const t of ['er', 'msa', 'ecpe'] as const) {
        for (const r of records[t]) {
          assert.deepEqual(
            served.promptIds({ prompt: r.query }, 0),
            trainerPrompt(trained, r.query, ''),
            r.id,
          );
        }
      }
    } finally {
      await served.dispose();
    }
  });

  for (const [task, labels] of [
    ['er', EMOTION_LABELS],
    ['msa', SENTIMENT_LABELS],
  ] as const) {
    it(`gives the trainer-side label scores (within 1e-4) and the same ${task.toUpperCase()} answers on ≥ 50 records`, async () => {
      const recs = records[task];
      assert.ok(recs.length >= 50);
      const answers = labels.map(labelAnswer);
      // trainer side: one row per label, the prompt as encodeExample made it
      const reference = await trained.score(
        recs.map((r) => ({ promptIds: trainerPrompt(trained, r.query, r.response) })),
        answers,
      );
      const spread =
        Math.max(...reference.logLikelihood.flat()) - Math.min(...reference.logLikelihood.flat());
      assert.ok(spread > 0.5, `the trained model's label scores differ (spread ${spread.toFixed(3)})`);
      // serving side: the saved folder through the gateway's engine
      const served = (await createTaskModel({ dir: modelDir })) as EmoVerseTaskModel;
      const scores = await served.scoreAnswers(
        recs.map((r) => ({ prompt: r.query })),
        answers,
      );
      await served.dispose();
      recs.forEach((r, i) => {
        answers.forEach((_, j) => {
          const d = Math.abs(scores[i][j] - reference.logLikelihood[i][j]);
          assert.ok(d < 1e-4, `${r.id} ${answers[j]}: ${scores[i][j]} vs ${reference.logLikelihood[i][j]}`);
        });
      });
      const { engine, close } = await servingEngine(modelDir);
      try {
        const results = await Promise.all(
          recs.map((r) => {
            const text = /'(.*)' <emotion>/s.exec(r.query)![1];
            return task === 'er' ? engine.emotion({ text }) : engine.sentiment({ text });
          }),
        );
        const gatewayLabels = results.map((x) => x.label);
        const trainerLabels = reference.best.map((b) => labels[b]);
        assert.deepEqual(gatewayLabels, trainerLabels);
      } finally {
        await close();
      }
    });
  }

  it('generates from the ECPE query what the trainer-side prompt generates', async () => {
    const recs = records.ecpe.slice(0, 20);
    assert.ok(recs.length >= 10);
    const reference = await trained.generate(
      recs.map((r) => ({ promptIds: trainerPrompt(trained, r.query, r.response) })),
      { maxNewTokens: 32 },
    );
    const { engine, close } = await servingEngine(modelDir);
    try {
      const served = await Promise.all(
        recs.map((r) => engine.generate({ prompt: r.query, maxNewTokens: 32 })),
      );
      assert.deepEqual(
        served.map((s) => s.text),
        reference.text,
      );
    } finally {
      await close();
    }
  });
});

describe('a PEFT adapter served per request', () => {
  it('answers as the merged model does: label scores within 1e-4 and the same labels on 60 ER records', async () => {
    // LoRA on the trained base, a few steps: the adapter is the only thing that changes
    const trainer = await trained.trainer({
      lora: { r: 8, alpha: 32, dropout: 0 },
      trainBase: false,
      optimizer: adamw({ lr: 2e-2 }),
    });
    const recs = records.er;
    for (let s = 0; s < 4; s++) {
      const batch = recs.slice(s * 8, s * 8 + 8);
      await trainer.step(
        trained.trainBatch(
          batch.map((r) => ({ promptIds: trainerPrompt(trained, r.query, r.response), answer: r.response })),
        ),
      );
    }
    const adapterDir = join(tmp, 'adapters');
    await trainer.savePeft(join(adapterDir, 'run-1'));
    const merged = await trained.withTrained(trainer);
    await trainer.release();
    const mergedDir = join(tmp, 'merged');
    merged.save(mergedDir);
    await merged.release();

    const answers = EMOTION_LABELS.map(labelAnswer);
    const inputs = recs.map((r) => ({ prompt: r.query }));
    const overBase = await createTaskModel({ dir: modelDir, adapterDir });
    const alone = await createTaskModel({ dir: mergedDir });
    try {
      assert.equal(await overBase.loadAdapter('run-1'), true);
      const base = await overBase.scoreAnswers(inputs, answers);
      const adapted = await overBase.scoreAnswers(inputs, answers, 'run-1');
      const reference = await alone.scoreAnswers(inputs, answers);
      const moved = Math.max(...adapted.flatMap((row, i) => row.map((x, j) => Math.abs(x - base[i][j]))));
      assert.ok(moved > 1e-2, `the adapter changes the scores (by ${moved})`);
      adapted.forEach((row, i) => {
        row.forEach((x, j) => {
          assert.ok(
            Math.abs(x - reference[i][j]) < 1e-4,
            `${recs[i].id} ${answers[j]}: ${x} vs ${reference[i][j]}`,
          );
        });
      });
      const argmax = (row: number[]) => row.indexOf(Math.max(...row));
      assert.deepEqual(adapted.map(argmax), reference.map(argmax));
    } finally {
      await overBase.dispose();
      await alone.dispose();
    }
  });
});
