import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServingError } from './errors.js';
import {
  DEFAULT_LIMITS,
  decodeUtf8,
  sniffImageFormat,
  sniffVideoFormat,
  validateTaskInput,
} from './validation.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46]);
const GIF = new TextEncoder().encode('GIF89a\x01\x00\x01\x00');
const MP4 = Uint8Array.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]);

function invalid(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ServingError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.match(e.message, pattern);
    return true;
  };
}

describe('input validation', () => {
  it('accepts a plain request', () => {
    const input = { text: 'Oh my God!', history: [{ speaker: 'Ross', text: 'Hi.' }], media: { image: PNG } };
    assert.equal(validateTaskInput(input), input);
  });

  it('refuses empty and blank text', () => {
    assert.throws(() => validateTaskInput({ text: '' }), invalid(/^text is empty$/));
    assert.throws(() => validateTaskInput({ text: ' \n\t' }), invalid(/^text is empty$/));
    assert.throws(
      () => validateTaskInput({ text: 'ok', history: [{ text: '' }] }),
      invalid(/history\[0\]\.text is empty/),
    );
  });

  it('refuses invalid UTF-8 bytes and lone surrogates', () => {
    assert.equal(decodeUtf8(new TextEncoder().encode('café')), 'café');
    assert.throws(() => decodeUtf8(Uint8Array.from([0x61, 0xc3, 0x28])), invalid(/text is not valid UTF-8/));
    assert.throws(() => decodeUtf8(Uint8Array.from([0xed, 0xa0, 0x80])), invalid(/not valid UTF-8/));
    assert.throws(() => validateTaskInput({ text: 'a\ud800b' }), invalid(/lone surrogate/));
  });

  it('refuses oversize text, history and media with the limit in the message', () => {
    const limits = { ...DEFAULT_LIMITS, maxTextChars: 10, maxImageBytes: 8, maxHistoryTurns: 1 };
    assert.throws(
      () => validateTaskInput({ text: 'x'.repeat(11) }, limits),
      invalid(/11 characters, the limit is 10/),
    );
    assert.throws(
      () => validateTaskInput({ text: 'x', media: { image: PNG } }, limits),
      invalid(/image is too large: 12 bytes, the limit is 8/),
    );
    assert.throws(
      () => validateTaskInput({ text: 'x', history: [{ text: 'a' }, { text: 'b' }] }, limits),
      invalid(/history has 2 turns, the limit is 1/),
    );
  });

  it('knows image and video formats by their magic bytes', () => {
    assert.equal(sniffImageFormat(PNG), 'png');
    assert.equal(sniffImageFormat(JPEG), 'jpeg');
    assert.equal(sniffImageFormat(GIF), 'gif');
    assert.equal(sniffImageFormat(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 ')), 'webp');
    assert.equal(sniffImageFormat(new TextEncoder().encode('hello world')), undefined);
    assert.equal(sniffVideoFormat(MP4), 'mp4');
    assert.equal(sniffVideoFormat(Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, 1])), 'webm');
    assert.equal(sniffVideoFormat(PNG), undefined);
  });

  it('refuses unsupported and unknown image formats, naming the supported ones', () => {
    assert.throws(
      () => validateTaskInput({ text: 'x', media: { image: GIF } }),
      invalid(/image is GIF, an unsupported image format; send jpeg, png, webp/),
    );
    assert.throws(
      () => validateTaskInput({ text: 'x', media: { frames: [PNG, new TextEncoder().encode('text')] } }),
      invalid(/frames\[1\] is not an image of a supported format/),
    );
    assert.throws(
      () => validateTaskInput({ text: 'x', media: { video: PNG } }),
      invalid(/video is not a video/),
    );
  });

  it('refuses more than one visual input and malformed refs', () => {
    assert.throws(
      () => validateTaskInput({ text: 'x', media: { image: PNG, video: MP4 } }),
      invalid(/at most one of image, video, frames or ref/),
    );
    assert.throws(
      () => validateTaskInput({ text: 'x', media: { ref: '../../etc/passwd' } }),
      invalid(/bucket\/key/),
    );
    assert.doesNotThrow(() => validateTaskInput({ text: 'x', media: { ref: 'videos/dia0_utt0.mp4' } }));
  });
});
