import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Checkpoint } from '@emoverse/safetensors';
import { trainByteLevelBpe } from './private/bpe.js';
import {
  EmoVerseModel,
  FACE_FEATURE_DIM,
  faceFrameFeatures,
  visualIndex,
  visualTokensFromFrames,
} from './private/emoverse.js';
import { EmoVerseLM } from './private/emoverse-lm.js';
import { buildLmGraph, DecoderModel } from './private/lm.js';
import { causalBias, positionIdsFromMask } from './private/masks.js';
import { NANO_CHAT_TEMPLATE, NANO_SPECIAL_TOKENS } from './private/presets.js';
import { f32, GraphSession, i64 } from './private/session.js';
import { FIXTURES, maxAbsDiff, readReference } from './private/test-support.js';
import { TextTokenizer } from './private/tokenizer.js';
import { VisionModel } from './private/vision.js';
import { checkpointSource } from './private/weights.js';

describe('EmoVerse composition X = [W_v T_v ; T_t]', () => {
  it('matches the emoverse-tiny logits within 1e-5 (SigLIP + projector + Llama; the README claims 5.3e-6)', async () => {
    const dir = join(FIXTURES, 'emoverse-tiny');
    const ref = readReference(join(dir, 'reference.safetensors'));
    const IMAGE = 0; // any id works as the placeholder: its embedding is replaced
    const model = new EmoVerseModel({
      llm: DecoderModel.fromDir(join(FIXTURES, 'llama-tiny')),
      encoder: { kind: 'vit', tower: VisionModel.fromDir(join(FIXTURES, 'siglip-vision-tiny')) },
      projector: checkpointSource(Checkpoint.open(join(dir, 'projector.safetensors'))),
      imageTokenId: IMAGE,
    });
    const px = ref.get('pixel_values')!;
    const tv = await model.encodeImages(px.data, 1);
    assert.deepEqual(tv.dims, [1, 16, 64]);
    const N = tv.dims[1];
    // layout.json: visual tokens first, then the text tokens, no special tokens
    const ids = [[...Array(N).fill(IMAGE), ...ref.get('input_ids')!.ints!]];
    const S = ids[0].length;
    const mask = [ids[0].map(() => 1)];
    const hook = model.embedHook();
    const { g } = buildLmGraph(model.llm, { embed: hook.embed });
    const s = await GraphSession.create(g);
    const out = await s.run({
      input_ids: i64(ids.flat(), [1, S]),
      position_ids: i64(positionIdsFromMask(mask).flat(), [1, S]),
      attention_bias: f32(causalBias(mask, S), [1, 1, 1, S, S]),
      visual_features: f32(tv.data, tv.dims),
      visual_index: i64(visualIndex(ids, IMAGE, N).flat(), [1, S]),
    });
    assert.deepEqual(out.logits.dims, [1, 26, 320]);
    const d = maxAbsDiff(out.logits.data as Float32Array, ref.get('logits')!.data);
    console.log(`emoverse-tiny logits max abs diff ${d.toExponential(2)}`);
    assert.ok(d < 1e-5, `max abs diff ${d}`);
    await s.release();
    await model.release();
  });

  it('placeholders place visual tokens anywhere; a wrong count is refused', () => {
    assert.deepEqual(
      visualIndex(
        [
          [5, 9, 9, 6],
          [9, 9, 7, 8],
        ],
        9,
        2,
      ),
      [
        [0, 0, 1, 0],
        [2, 3, 0, 0],
      ],
    );
    assert.throws(
      () => visualIndex([[9, 5, 6]], 9, 2),
      /row 0 holds 1 image placeholders \(token 9\) but there are 2/,
    );
  });
});

describe('face-feature visual tokens', () => {
  it('one token per sampled frame: 17 AUs (scaled to 0-1), 7 expression probabilities, 128-d descriptor', () => {
    const f = faceFrameFeatures({
      aus: Array(17).fill(5),
      expressions: [1, 0, 0, 0, 0, 0, 0],
      descriptor: Array(128).fill(0.1),
    });
    assert.equal(f.length, FACE_FEATURE_DIM);
    assert.equal(f[0], 1);
    assert.equal(f[17], 1);
    assert.ok(Math.abs(f[24] - 0.1) < 1e-7);
    assert.throws(() => faceFrameFeatures({ aus: [1], expressions: [], descriptor: [] }), /need 17 AUs/);
    const frames = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((v) => new Float32Array(FACE_FEATURE_DIM).fill(v));
    const tv = visualTokensFromFrames(frames, 4);
    assert.deepEqual(
      [0, 1, 2, 3].map((k) => tv[k * FACE_FEATURE_DIM]),
      [1, 3, 6, 8],
    );
    assert.ok(visualTokensFromFrames([], 3).every((v) => v === 0));
  });
});

describe('EmoVerseLM with a ViT encoder', () => {
  it('turns an RGB image into T_v through SigLIP and scores labels conditioned on it', async () => {
    const tokenizer = new TextTokenizer(
      trainByteLevelBpe(['What emotion is shown? joy anger'], {
        vocabSize: 300,
        specialTokens: NANO_SPECIAL_TOKENS,
      }),
      { bos_token: '<|bos|>', eos_token: '<|eos|>' },
      NANO_CHAT_TEMPLATE,
    );
    const llm = DecoderModel.fromDir(join(FIXTURES, 'llama-tiny'));
    const emoverse = new EmoVerseModel({
      llm,
      encoder: { kind: 'vit', tower: VisionModel.fromDir(join(FIXTURES, 'siglip-vision-tiny')) },
      projector: checkpointSource(Checkpoint.open(join(FIXTURES, 'emoverse-tiny', 'projector.safetensors'))),
      imageTokenId: tokenizer.tokenId('<|image|>')!,
    });
    const lm = new EmoVerseLM({ llm, tokenizer, emoverse, visualTokens: 16 });
    const img = (v: number) => ({
      width: 40,
      height: 40,
      data: new Uint8Array(40 * 40 * 3).map((_, i) => (i * v) % 256),
    });
    const a = await lm.visualFromImage(img(7));
    const b = await lm.visualFromImage(img(13));
    assert.equal(a.length, 16 * 64);
    const messages = [{ role: 'user', content: '<|image|> What emotion is shown?' }];
    const sa = await lm.score([{ messages, visual: a }], ['joy', 'anger']);
    const sb = await lm.score([{ messages, visual: b }], ['joy', 'anger']);
    assert.ok(sa.logLikelihood[0].every(Number.isFinite));
    assert.ok(
      Math.abs(sa.logLikelihood[0][0] - sb.logLikelihood[0][0]) > 1e-4,
      'the image changes the scores',
    );
    assert.equal(
      lm.encodePrompt({ messages, visual: a }).filter((t) => t === emoverse.imageTokenId).length,
      16,
    );
    await lm.release();
  });
});
