import { EmoVerseLM } from '../../../packages/models/src/private/emoverse-lm.js';
const lm = EmoVerseLM.createNano({ corpus: ['hello world joy anger'], vocabSize: 300, seed: 1 });
const answers = ['Joy.'];
for (const len of [2, 16, 64]) {
  const p = 'a '.repeat(len);
  for (const B of [1, 16]) {
    await lm.score(Array(B).fill({ prompt: p }), answers);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await lm.score(Array(B).fill({ prompt: p }), answers);
    console.log(`len≈${lm.encodePrompt({ prompt: p }).length} B=${B}: ${((performance.now() - t0) / 5).toFixed(1)} ms/call, ${((performance.now() - t0) / 5 / B).toFixed(2)} ms/row`);
  }
}
await lm.release();
