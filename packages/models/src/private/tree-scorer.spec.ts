// Label scoring with the prompt computed once: the tree layout equals one row per candidate.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adamw } from '@emoverse/autograd';
import { EmoVerseLM, type Example } from './emoverse-lm.js';

const LABELS = ['Joy.', 'Anger.', 'Sadness.', 'Neutral.'];
const corpus = ['The person says: I won! I am so happy.', 'You lied to me!', 'She left.', ...LABELS];
const ask = (text: string, visual?: Float32Array): Example => ({
  messages: [{ role: 'user', content: `The person says: '${text}' Which emotion?` }],
  visual,
});

describe('TreeScorer (EmoVerseLM.scoreShared)', () => {
  it('gives the one-row-per-label log-likelihoods of score() on a trained model, with and without visual tokens', async () => {
    const lm = EmoVerseLM.createNano({ corpus, vocabSize: 320, seed: 3 });
    // a few full steps, so that the labels' scores differ clearly (a fresh model scores them alike)
    const trainer = await lm.trainer({
      lora: false,
      trainBase: true,
      optimizer: adamw({ lr: 3e-3, weightDecay: 0 }),
    });
    const data = [
      { ...ask('I won! I am so happy.'), answer: 'Joy.' },
      { ...ask('You lied to me!'), answer: 'Anger.' },
      { ...ask('She left.'), answer: 'Sadness.' },
    ];
    for (let s = 0; s < 12; s++) await trainer.step(lm.trainBatch(data));
    const trained = lm.withParameters(await trainer.parameters());
    await trainer.release();
    try {
      const dim = trained.emoverse!.visualDim;
      const visual = new Float32Array(trained.visualTokens * dim).map((_, i) => Math.sin(i));
      const examples: Example[] = [
        ask('I won! I am so happy.'),
        ask('You lied to me!', visual),
        { promptIds: trained.encodePrompt(ask('She left.')) },
      ];
      const reference = await trained.score(examples, LABELS);
      const tree = await trained.scoreShared(examples, LABELS);
      const spread = Math.max(...reference.logLikelihood[0]) - Math.min(...reference.logLikelihood[0]);
      assert.ok(spread > 1, `the trained model tells the labels apart (spread ${spread.toFixed(3)})`);
      for (let i = 0; i < examples.length; i++) {
        for (let j = 0; j < LABELS.length; j++) {
          assert.ok(
            Math.abs(tree[i][j] - reference.logLikelihood[i][j]) < 1e-4,
            `example ${i} label ${j}: ${tree[i][j]} vs ${reference.logLikelihood[i][j]}`,
          );
        }
      }
    } finally {
      await trained.release();
      await lm.release();
    }
  });
});
