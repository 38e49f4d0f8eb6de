// Plain batches -> ORT feeds for the LM graphs. Training and scoring batches are right-padded
// (the mask says which tokens are real); generation left-pads (generate.ts).
import type { EmoVerseModel } from './emoverse.js';
import { visualIndex } from './emoverse.js';
import { causalBias, positionIdsFromMask } from './masks.js';
import { type Feeds, f32, i64 } from './session.js';
import { causalLmTargets, IGNORE, type LossTargets } from './targets.js';

export interface TextBatch {
  /** token ids per example; rows may differ in length (they are right-padded here) */
  inputIds: number[][];
  /** labels per example, same lengths as inputIds, -100 = not trained on (default: the ids) */
  labels?: number[][];
  /** T_v per example for EmoVerse: [examples, N, D_v] row-major */
  visualFeatures?: { data: Float32Array; dims: [number, number, number] };
  /** per-example loss weights (M2SE's task weights); default 1 */
  exampleWeights?: number[];
  /** 'tokens': mean over all counted tokens (transformers); 'examples': mean of per-example means */
  normalize?: 'tokens' | 'examples';
}

export function padRight(rows: readonly number[][], pad: number): { ids: number[][]; mask: number[][] } {
  const L = Math.max(1, ...rows.map((r) => r.length));
  return {
    ids: rows.map((r) => [...r, ...Array(L - r.length).fill(pad)]),
    mask: rows.map((r) => [...Array(r.length).fill(1), ...Array(L - r.length).fill(0)]),
  };
}

/** input_ids, position_ids, attention_bias (+ visual inputs) for one forward over whole rows. */
export function forwardFeeds(
  batch: TextBatch,
  pad: number,
  emoverse?: EmoVerseModel,
): { feeds: Feeds; mask: number[][] } {
  const { ids, mask } = padRight(batch.inputIds, pad);
  const B = ids.length;
  const S = ids[0].length;
  const feeds: Feeds = {
    input_ids: i64(ids.flat(), [B, S]),
    position_ids: i64(positionIdsFromMask(mask).flat(), [B, S]),
    attention_bias: f32(causalBias(mask, S), [B, 1, 1, S, S]),
  };
  if (emoverse) Object.assign(feeds, visualFeeds(emoverse, ids, batch.visualFeatures));
  return { feeds, mask };
}

/** visual_features / visual_index; a text-only batch gets one zero token that nothing reads. */
export function visualFeeds(
  m: EmoVerseModel,
  ids: number[][],
  v: TextBatch['visualFeatures'] | undefined,
): Feeds {
  const B = ids.length;
  const S = ids[0].length;
  const dims = v?.dims ?? [1, 1, m.visualDim];
  if (dims[2] !== m.visualDim)
    throw new Error(`visual features have ${dims[2]} dims per token, W_v expects ${m.visualDim}`);
  if (v && dims[0] !== B)
    throw new Error(`visual features are given for ${dims[0]} examples but the batch has ${B}`);
  const index = v ? visualIndex(ids, m.imageTokenId, dims[1]) : ids.map((r) => r.map(() => 0));
  if (!v && ids.some((r) => r.includes(m.imageTokenId))) {
    throw new Error(`the batch holds image placeholders (token ${m.imageTokenId}) but no visual features`);
  }
  return {
    visual_features: f32(v?.data ?? new Float32Array(m.visualDim), dims),
    visual_index: i64(index.flat(), [B, S]),
  };
}

/** Forward feeds plus labels / token_weights for the loss head. */
export function lossFeeds(
  batch: TextBatch,
  pad: number,
  emoverse?: EmoVerseModel,
): { feeds: Feeds; targets: LossTargets } {
  const { feeds, mask } = forwardFeeds(batch, pad, emoverse);
  const B = mask.length;
  const S = mask[0].length;
  const labels = (batch.labels ?? batch.inputIds).map((row, b) => {
    const r = [...row, ...Array(S - row.length).fill(IGNORE)];
    return r.map((v, t) => (mask[b][t] ? v : IGNORE));
  });
  const targets = causalLmTargets(labels, {
    exampleWeights: batch.exampleWeights,
    normalize: batch.normalize,
  });
  feeds.labels = i64(targets.labels.flat(), [B, S]);
  feeds.token_weights = f32(targets.weights, [B, S]);
  return { feeds, targets };
}
