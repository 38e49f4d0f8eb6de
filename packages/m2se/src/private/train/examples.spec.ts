// Which records the LM pre-training reads: every record, or one per conversation of ERI and ECPE.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateRecipe } from '../recipe.js';
import { conversationOf, type EmtExample, longestPerConversation } from './examples.js';
import { pretrainingExamples } from './recipe-run.js';

const ex = (id: string, task: EmtExample['task'], query: string): EmtExample => ({
  id,
  task,
  query,
  response: 'r',
});

describe('conversationOf', () => {
  it('strips the utterance from ECF and MELD ids', () => {
    assert.equal(conversationOf('ecpe/ecf1/conv470/utt8'), 'ecpe/ecf1/conv470');
    assert.equal(conversationOf('eri/meld/train/dia530_utt7'), 'eri/meld/train/dia530');
    assert.equal(conversationOf('fer/clip-3'), undefined);
    assert.equal(conversationOf(undefined), undefined);
  });
});

describe('longestPerConversation', () => {
  it('keeps the longest query of each conversation, in first-seen order, and every record without one', () => {
    const list = [
      ex('eri/meld/train/dia1_utt1', 'ERI', 'a'),
      ex('eri/meld/train/dia2_utt1', 'ERI', 'x'),
      ex('eri/meld/train/dia1_utt3', 'ERI', 'a b c'),
      ex('eri/meld/train/dia1_utt2', 'ERI', 'a b'),
      ex('fer/clip', 'FER', 'q'),
    ];
    assert.deepEqual(
      longestPerConversation(list).map((e) => e.id),
      ['eri/meld/train/dia2_utt1', 'eri/meld/train/dia1_utt3', 'fer/clip'],
    );
  });
});

describe('pretrainingExamples', () => {
  const base = {
    name: 'r',
    seed: 1,
    model: { base: 'emoverse-nano' },
    lora: { r: 4, alpha: 16, dropout: 0, targets: ['q_proj'] },
    optimizer: { lr: 1e-3 },
    batch: { size: 2, gradAccumulation: 1, maxSeqLen: 32 },
    data: { shards: ['*.jsonl'] },
    stages: [{ name: 's', epochs: 1, samples: 4, tasks: { ER: 0.5, ECPE: 0.5 } }],
  };
  const examples = {
    ER: [ex('er/meld/train/dia1_utt1', 'ER', 'u1'), ex('er/meld/train/dia1_utt2', 'ER', 'u2')],
    ECPE: [ex('ecpe/ecf1/conv1/utt1', 'ECPE', 'c'), ex('ecpe/ecf1/conv1/utt2', 'ECPE', 'c + t2')],
  };

  it('reads every record by default', () => {
    const recipe = validateRecipe({ ...base, pretraining: { lr: 1e-3 } });
    assert.equal(pretrainingExamples(recipe, examples), examples);
  });

  it('reads one record per conversation of the conversation tasks only with distinct: conversation', () => {
    const recipe = validateRecipe({ ...base, pretraining: { lr: 1e-3, distinct: 'conversation' } });
    const out = pretrainingExamples(recipe, examples);
    assert.equal(out.ER?.length, 2, 'ER asks about one utterance: both kept');
    assert.deepEqual(
      out.ECPE?.map((e) => e.id),
      ['ecpe/ecf1/conv1/utt2'],
    );
  });
});
