// Input checks done before a request costs any model time. Each failure is an INVALID_ARGUMENT
// error whose message names the field and says what is wrong, so a client can fix the call.

import { invalidArgument } from './errors.js';

export interface InputLimits {
  /** Characters in the text field. */
  maxTextChars: number;
  /** Turns of conversation history. */
  maxHistoryTurns: number;
  /** Characters in one history turn. */
  maxTurnChars: number;
  /** Bytes of one image (or one frame). */
  maxImageBytes: number;
  /** Bytes of one video. */
  maxVideoBytes: number;
  /** Frames given as separate images. */
  maxFrames: number;
}

export const DEFAULT_LIMITS: InputLimits = {
  maxTextChars: 16_000,
  maxHistoryTurns: 64,
  maxTurnChars: 4_000,
  maxImageBytes: 8 * 1024 * 1024,
  maxVideoBytes: 48 * 1024 * 1024,
  maxFrames: 64,
};

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 bytes, refusing malformed sequences instead of replacing them with U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, field = 'text'): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw invalidArgument(`${field} is not valid UTF-8`);
  }
}

/** Checks one text field: present, not blank, well-formed Unicode, within `maxChars`. */
export function checkText(text: string | undefined, field: string, maxChars: number): string {
  if (text === undefined || text.trim().length === 0) throw invalidArgument(`${field} is empty`);
  if (LONE_SURROGATE.test(text))
    throw invalidArgument(`${field} is not valid UTF-8 (it holds a lone surrogate)`);
  if (text.length > maxChars) {
    throw invalidArgument(`${field} is too long: ${text.length} characters, the limit is ${maxChars}`);
  }
  return text;
}

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'bmp' | 'tiff';
/** Formats the vision pipeline decodes. */
export const SUPPORTED_IMAGE_FORMATS: readonly ImageFormat[] = ['jpeg', 'png', 'webp'];

const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/** The image format named by the file's magic bytes, or undefined when none matches. */
export function sniffImageFormat(b: Uint8Array): ImageFormat | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 4) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a)
    return 'png';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'webp';
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 2 && ascii(b, 0, 2) === 'BM') return 'bmp';
  if (b.length >= 4 && (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*')) return 'tiff';
  return undefined;
}

export type VideoFormat = 'mp4' | 'webm' | 'avi' | 'asf' | 'mpegts';

/** The video container named by the file's magic bytes, or undefined when none matches. */
export function sniffVideoFormat(b: Uint8Array): VideoFormat | undefined {
  if (b.length >= 12 && ascii(b, 4, 8) === 'ftyp') return 'mp4'; // also mov, m4v, 3gp
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'webm'; // also mkv
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 11) === 'AVI') return 'avi';
  const asfGuid = [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11];
  if (b.length >= 8 && asfGuid.every((x, i) => b[i] === x)) return 'asf'; // wmv
  if (b.length >= 377 && b[0] === 0x47 && b[188] === 0x47 && b[376] === 0x47) return 'mpegts';
  return undefined;
}

export function checkImage(bytes: Uint8Array, field: string, limits: InputLimits): ImageFormat {
  if (bytes.length === 0) throw invalidArgument(`${field} is empty`);
  if (bytes.length > limits.maxImageBytes) {
    throw invalidArgument(
      `${field} is too large: ${bytes.length} bytes, the limit is ${limits.maxImageBytes}`,
    );
  }
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    throw invalidArgument(
      `${field} is not an image of a supported format (${SUPPORTED_IMAGE_FORMATS.join(', ')}): unknown magic bytes`,
    );
  }
  if (!SUPPORTED_IMAGE_FORMATS.includes(format)) {
    throw invalidArgument(
      `${field} is ${format.toUpperCase()}, an unsupported image format; send ${SUPPORTED_IMAGE_FORMATS.join(', ')}`,
    );
  }
  return format;
}

export function checkVideo(bytes: Uint8Array, field: string, limits: InputLimits): VideoFormat {
  if (bytes.length === 0) throw invalidArgument(`${field} is empty`);
  if (bytes.length > limits.maxVideoBytes) {
    throw invalidArgument(
      `${field} is too large: ${bytes.length} bytes, the limit is ${limits.maxVideoBytes}`,
    );
  }
  const format = sniffVideoFormat(bytes);
  if (format === undefined) {
    throw invalidArgument(
      `${field} is not a video container ffmpeg is asked to read (mp4/mov, webm/mkv, avi, wmv, ts)`,
    );
  }
  return format;
}

/** One turn of conversation history. */
export interface Turn {
  speaker?: string;
  text: string;
  /** The turn's emotion label, where known (ECPE conversations carry one per utterance). */
  emotion?: string;
}

/** Visual input of a request: at most one of these is set. */
export interface MediaInput {
  image?: Uint8Array;
  video?: Uint8Array;
  frames?: Uint8Array[];
  /** An object-store reference (bucket/key) to a video or image. */
  ref?: string;
}

/** The task-independent part of every task request. */
export interface TaskInput {
  text: string;
  history?: Turn[];
  media?: MediaInput;
  adapter?: string;
}

/** Checks a whole request; returns it unchanged when valid, throws INVALID_ARGUMENT otherwise. */
export function validateTaskInput(input: TaskInput, limits: InputLimits = DEFAULT_LIMITS): TaskInput {
  checkText(input.text, 'text', limits.maxTextChars);
  const history = input.history ?? [];
  if (history.length > limits.maxHistoryTurns) {
    throw invalidArgument(`history has ${history.length} turns, the limit is ${limits.maxHistoryTurns}`);
  }
  history.forEach((turn, i) => {
    checkText(turn.text, `history[${i}].text`, limits.maxTurnChars);
  });
  const media = input.media;
  if (media) {
    const given = [
      media.image,
      media.video,
      media.frames?.length ? media.frames : undefined,
      media.ref,
    ].filter((x) => x !== undefined && x !== '');
    if (given.length > 1) throw invalidArgument('give at most one of image, video, frames or ref');
    if (media.image) checkImage(media.image, 'image', limits);
    if (media.video) checkVideo(media.video, 'video', limits);
    if (media.frames) {
      if (media.frames.length > limits.maxFrames) {
        throw invalidArgument(`frames has ${media.frames.length} images, the limit is ${limits.maxFrames}`);
      }
      media.frames.forEach((f, i) => {
        checkImage(f, `frames[${i}]`, limits);
      });
    }
    const ref = media.ref;
    const badSegment = (seg: string) => seg === '' || seg === '.' || seg === '..';
    if (
      ref !== undefined &&
      ref !== '' &&
      (!/^[\w.-]+\/[\w./-]+$/.test(ref) || ref.split('/').some(badSegment))
    ) {
      throw invalidArgument(
        `ref '${ref.slice(0, 80)}' is not an object-store reference of the form bucket/key`,
      );
    }
  }
  return input;
}
