import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EMOTION_LABELS, emotionPrompt, labelAnswer } from '@emoverse/serving';
import { sharedDir } from '@emoverse/testing';
import { loadBase } from './emoverse-model.js';
import { TreeScorer } from './tree-scorer.js';

describe('TreeScorer', () => {
  it('gives the same log-likelihoods as one row per candidate, with and without visual tokens', async () => {
    const lm = loadBase({
      nano: {
        seed: 3,
        corpusFiles: [join(sharedDir(), 'data/m2se_format/meld_dev_er_sample.json')],
        vocabSize: 512,
      },
    });
    const scorer = await TreeScorer.create(lm);
    try {
      const dim = lm.emoverse!.visualDim;
      const visual = new Float32Array(lm.visualTokens * dim).map((_, i) => Math.sin(i));
      const examples = [
        { prompt: `<|user|>\n${emotionPrompt('Oh my God, he is lost!')}\n<|assistant|>\n` },
        { prompt: `<|user|>\n${emotionPrompt('Hi.')}\n<|assistant|>\n`, visual },
        { prompt: `<|user|>\n${emotionPrompt('What?')}\n<|assistant|>\nJoy.` },
      ];
      const answers = EMOTION_LABELS.map((l) => `${labelAnswer(l)}\n`);
      const reference = await lm.score(examples, answers);
      const tree = await scorer.score(examples, answers);
      for (let i = 0; i < examples.length; i++) {
        for (let j = 0; j < answers.length; j++) {
          assert.ok(
            Math.abs(tree[i][j] - reference.logLikelihood[i][j]) < 1e-4,
            `example ${i} label ${j}: ${tree[i][j]} vs ${reference.logLikelihood[i][j]}`,
          );
        }
      }
    } finally {
      await scorer.release();
      await lm.release();
    }
  });
});
