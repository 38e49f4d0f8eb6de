import { readFileSync } from 'node:fs';
import { EmoVerseLM } from '../../../packages/models/src/private/emoverse-lm.js';
const recs = JSON.parse(readFileSync('/work/shared/data/m2se_format/meld_dev_er_sample.json', 'utf8'));
const corpus = recs.map((r: any) => r.query + ' ' + r.response);
const lm = EmoVerseLM.createNano({ corpus, vocabSize: 1024, seed: 1 });
const answers = ['Anger.', 'Sadness.', 'Surprise.', 'Disgust.', 'Joy.', 'Neutral.', 'Fear.'];
const prompts = recs.map((r: any) => `<|user|>\n${r.query}\n<|assistant|>\n`);
console.log('tokens', lm.encodePrompt({ prompt: prompts[0] }).length);
await lm.score([{ prompt: prompts[0] }], answers);
for (const B of [1, 4, 16, 32]) {
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < 32; i += B) {
    await lm.score(prompts.slice(i, i + B).map((p: string) => ({ prompt: p })), answers);
    n += B;
  }
  const ms = performance.now() - t0;
  console.log(`B=${B}: ${(ms / n).toFixed(1)} ms/example`);
}
const t0 = performance.now();
const g = await lm.generate([{ prompt: prompts[0] }], { maxNewTokens: 16 });
console.log('gen1', (performance.now() - t0).toFixed(0), 'ms', JSON.stringify(g.text[0]).slice(0, 80));
const t1 = performance.now();
await lm.generate(prompts.slice(0, 16).map((p: string) => ({ prompt: p })), { maxNewTokens: 16 });
console.log('gen16', (performance.now() - t1).toFixed(0), 'ms');
await lm.release();
