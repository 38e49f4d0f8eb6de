// Label scoring with the prompt computed once (EmoVerseLM.scoreShared). EmoVerseLM.score runs one row per
// (example, label): with 7 ER labels and a 60-token prompt that is 7 x 63 tokens, nearly all of
// them the same prompt again. Here one row holds the prompt once, then each candidate answer as
// its own branch:
//
//   p0 .. p(P-2) | p(P-1) c1_0 c1_1 <eos> | p(P-1) c2_0 <eos> | ...
//
// Each branch starts with a copy of the prompt's last token (same position id), so that its first
// answer token gets its own prediction slot. The attention bias lets a branch token see the
// prompt and the earlier tokens of its own branch, and nothing else; position ids restart at P-1
// in every branch. Each branch thus computes exactly what its own row would, and
// log p(candidate | prompt) is the sum of its tokens' log-likelihoods, read off the loss head's
// per-token losses. About 60 + 7 x 4 tokens instead of 7 x 63.

import { ort } from '@emoverse/runtime';
import { forwardFeeds } from './batch.js';
import type { EmoVerseLM, Example } from './emoverse-lm.js';
import { buildLmGraph } from './lm.js';
import { MASKED } from './masks.js';
import { GraphSession } from './session.js';

const IGNORE = -100;

interface Layout {
  ids: number[];
  positions: number[];
  /** -1 for prompt tokens, else the candidate index */
  branch: number[];
  labels: number[];
}

export class TreeScorer {
  private constructor(
    private readonly lm: EmoVerseLM,
    private readonly session: GraphSession,
  ) {}

  static async create(lm: EmoVerseLM): Promise<TreeScorer> {
    const hook = lm.emoverse?.embedHook();
    const { g } = buildLmGraph(lm.llm, {
      loss: true,
      logits: 'none',
      embed: hook?.embed,
      name: 'score-tree',
    });
    return new TreeScorer(lm, await GraphSession.create(g, lm.sessionOptions));
  }

  private layout(prompt: number[], candidates: number[][]): Layout {
    if (prompt.length === 0) throw new Error('an empty prompt cannot be scored');
    const P = prompt.length;
    const ids = prompt.slice(0, P - 1);
    const positions = ids.map((_, t) => t);
    const branch = ids.map(() => -1);
    const labels = ids.map(() => IGNORE);
    candidates.forEach((c, j) => {
      const tokens = [prompt[P - 1], ...c];
      tokens.forEach((token, k) => {
        ids.push(token);
        positions.push(P - 1 + k);
        branch.push(j);
        labels.push(k + 1 < tokens.length ? tokens[k + 1] : IGNORE);
      });
    });
    return { ids, positions, branch, labels };
  }

  /** log p(candidate | example) for every example and candidate, as EmoVerseLM.score's logLikelihood. */
  async score(examples: readonly Example[], candidates: readonly string[]): Promise<number[][]> {
    const tok = this.lm.tokenizer;
    const eos = this.lm.eosId;
    const cands = candidates.map((c) => [...tok.encode(c, { addSpecialTokens: false }), eos]);
    const rows = examples.map((ex) => this.layout(this.lm.encodePrompt(ex), cands));
    const B = rows.length;
    const S = Math.max(...rows.map((r) => r.ids.length));

    // Visual features and their index come from the ordinary forward feeds (the placeholders sit in
    // the prompt part); ids, positions, bias and labels are the tree's.
    const e = this.lm.emoverse;
    const withVisual = e && examples.some((x) => x.visual);
    const n = this.lm.visualTokens;
    let visualFeatures: { data: Float32Array; dims: [number, number, number] } | undefined;
    if (e && withVisual) {
      const data = new Float32Array(B * n * e.visualDim);
      examples.forEach((x, b) => {
        if (x.visual) data.set(x.visual, b * n * e.visualDim);
      });
      visualFeatures = { data, dims: [B, n, e.visualDim] };
    }
    const pad = this.lm.llm.config.padTokenId ?? 0;
    const { feeds } = forwardFeeds({ inputIds: rows.map((r) => r.ids), visualFeatures }, pad, e);

    const positions = new BigInt64Array(B * S);
    const labels = new BigInt64Array(B * S).fill(BigInt(IGNORE));
    const bias = new Float32Array(B * S * S).fill(MASKED);
    rows.forEach((r, b) => {
      const L = r.ids.length;
      for (let t = 0; t < L; t++) {
        positions[b * S + t] = BigInt(r.positions[t]);
        labels[b * S + t] = BigInt(r.labels[t]);
        const row = (b * S + t) * S;
        for (let s = 0; s <= t; s++) {
          if (r.branch[s] === -1 || r.branch[s] === r.branch[t]) bias[row + s] = 0;
        }
      }
    });
    feeds.position_ids = new ort.Tensor('int64', positions, [B, S]);
    feeds.attention_bias = new ort.Tensor('float32', bias, [B, 1, 1, S, S]);
    feeds.labels = new ort.Tensor('int64', labels, [B, S]);
    feeds.token_weights = new ort.Tensor('float32', new Float32Array(B * S), [B, S]);
    const out = await this.session.run(feeds, ['token_loss']);
    const loss = out.token_loss.data as Float32Array;

    return rows.map((r, b) => {
      const ll = new Array<number>(cands.length).fill(0);
      for (let t = 0; t < r.ids.length; t++) {
        if (r.branch[t] >= 0 && r.labels[t] !== IGNORE) ll[r.branch[t]] -= loss[b * S + t];
      }
      return ll;
    });
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
