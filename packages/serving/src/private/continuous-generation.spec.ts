// Continuous batching and the prefix cache change how generation is scheduled, never what it says:
// the released emoverse-nano answers ECPE and ERI prompts identically either way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, sharedDir } from '@emoverse/testing';
import { EmoVerseTaskModel, loadBase } from './emoverse-model.js';
import { ecpePrompt, emotionReasonPrompt, parseEcpeQuery } from './prompts.js';
import type { ModelInput } from './task-model.js';

const RELEASE = join(repoRoot(), 'release/models/m2se-nano');

/** ECPE prompts of the paper-format sample (targets of one conversation share its text), and ERI prompts of their targets. */
function prompts(): ModelInput[] {
  const records: { query: string }[] = JSON.parse(
    readFileSync(join(sharedDir(), 'data/m2se_format/ecf_dev_ecpe_sample.json'), 'utf8'),
  );
  const out: ModelInput[] = [];
  for (const r of records.slice(0, 8)) {
    const q = parseEcpeQuery(r.query)!;
    const t = q.conversation[q.target - 1];
    out.push({
      prompt: ecpePrompt(q.conversation, q.target),
      answerPrefix: `${q.target}_${t.emotion ?? 'neutral'},`,
    });
    out.push({ prompt: emotionReasonPrompt(t.text, q.conversation.slice(0, q.target - 1), t.speaker) });
  }
  return out;
}

describe('continuous batching with prefix caching (released emoverse-nano)', () => {
  it('gives every ECPE and ERI request the greedy text it gets alone, with requests joining mid-flight', async () => {
    const inputs = prompts();
    const options = { maxNewTokens: 16, repetitionPenalty: 1.2, noRepeatNgramSize: 3 };
    const alone = new EmoVerseTaskModel(loadBase({ dir: RELEASE }), {
      generation: { maxSequences: 1, memoryBytes: 1 << 26, prefixCache: false },
    });
    const expected: string[] = [];
    for (const input of inputs) expected.push((await alone.generate([input], options))[0].text);
    await alone.dispose();

    const model = new EmoVerseTaskModel(loadBase({ dir: RELEASE }), {
      generation: { maxSequences: 16, memoryBytes: 1 << 26, prefixCache: true },
    });
    const third = Math.ceil(inputs.length / 3);
    const late: Promise<{ text: string }[]>[] = [];
    let pieces = 0;
    const first = model.generate(inputs.slice(0, third), {
      ...options,
      // the other two thirds arrive while the first is being decoded
      onToken: () => {
        pieces++;
        if (pieces === 3) late.push(model.generate(inputs.slice(third, 2 * third), options));
        if (pieces === 12) late.push(model.generate(inputs.slice(2 * third), options));
      },
    });
    const got = [...(await first), ...(await late[0]), ...(await late[1])].map((g) => g.text);
    assert.deepEqual(got, expected);
    const s = await model.generationStats();
    assert.ok(s.rowSteps / s.steps > 2, `rows per decode step: ${(s.rowSteps / s.steps).toFixed(2)}`);
    assert.ok(
      s.hitTokens / s.lookedUpTokens > 0.1,
      `prefix hit rate ${(s.hitTokens / s.lookedUpTokens).toFixed(2)}`,
    );
    assert.equal(s.active + s.waiting, 0);
    await model.dispose();
  });
});
