// Tokenizing an instruction example for causal-LM training and collating micro-batches.
// Labels follow transformers' convention (and packages/models'): labels[t] is the token at t where it
// is trained on, -100 elsewhere, and the engine shifts them (logits at t predict labels[t + 1]).
// Only response tokens count: the prompt is context, as in ms-swift's instruction tuning.
import type { EmtExample } from './examples.js';

export const IGNORE_INDEX = -100;

/** What the loop needs of a tokenizer (TextTokenizer of packages/models fits). */
export interface Tokenizer {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
}

/** How a query and response become text: the chat template's user turn + generation prompt, then the answer. */
export interface PromptFormat {
  prompt(query: string): string;
  completion(response: string): string;
}

/** The layout of models' DEFAULT_CHAT_TEMPLATE, answer closed by a newline (tokenizers without a template). */
export const DEFAULT_PROMPT_FORMAT: PromptFormat = {
  prompt: (q) => `<|user|>\n${q}\n<|assistant|>\n`,
  completion: (r) => `${r}\n`,
};

/**
 * The prompt as a chat template renders a user turn plus the generation prompt (HF tokenizers),
 * the answer as is (the caller closes it with eos). This is the one format of the project: the
 * trainer (trainRecipe), the evaluation and the gateway (serving's EmoVerseTaskModel) all use it.
 */
export function chatTemplateFormat(tokenizer: {
  applyChatTemplate(
    messages: { role: string; content: string }[],
    opts?: { addGenerationPrompt?: boolean },
  ): string;
}): PromptFormat {
  return {
    prompt: (q) => tokenizer.applyChatTemplate([{ role: 'user', content: q }], { addGenerationPrompt: true }),
    completion: (r) => r,
  };
}

export interface EncodedExample {
  inputIds: number[];
  /** Unshifted: the response tokens' ids, -100 over the prompt. */
  labels: number[];
  /** Tokens the loss counts (response tokens after the first position). */
  counted: number;
}

/** Share of a cut prompt's room kept from its start; the rest comes from its end. */
export const PROMPT_HEAD_SHARE = 0.25;

/**
 * A prompt cut to `room` tokens by dropping its middle: the first PROMPT_HEAD_SHARE of the room
 * comes from its start, the rest from its end. Training (encodeExample) and serving cut alike.
 */
export function cutPrompt(prompt: readonly number[], room: number): number[] {
  if (prompt.length <= room) return [...prompt];
  const head = Math.floor(room * PROMPT_HEAD_SHARE);
  return [...prompt.slice(0, head), ...prompt.slice(prompt.length - (room - head))];
}

/**
 * Token ids and labels. If too long for maxSeqLen, the response keeps at least half the window and
 * the prompt loses its middle: its start (chat template, task instruction) and its end (in EMT's
 * ECPE queries: the last candidates, the target utterance and the answer format) carry what the
 * answer depends on, while the middle is the long conversation.
 */
export function encodeExample(
  tokenizer: Tokenizer,
  example: Pick<EmtExample, 'query' | 'response'>,
  options: {
    maxSeqLen: number;
    format?: PromptFormat;
    bosId?: number;
    eosId?: number;
    /** Train on the prompt too (language-model pre-training on the text). */
    promptLoss?: boolean;
  },
): EncodedExample {
  const format = options.format ?? DEFAULT_PROMPT_FORMAT;
  let prompt = tokenizer.encode(format.prompt(example.query), { addSpecialTokens: false });
  let answer = tokenizer.encode(format.completion(example.response), { addSpecialTokens: false });
  if (options.bosId !== undefined) prompt = [options.bosId, ...prompt];
  if (options.eosId !== undefined) answer = [...answer, options.eosId];
  const max = options.maxSeqLen;
  if (prompt.length + answer.length > max) {
    const keepAnswer = Math.min(answer.length, Math.max(Math.ceil(max / 2), max - prompt.length));
    answer = answer.slice(0, keepAnswer);
    prompt = cutPrompt(prompt, max - keepAnswer);
  }
  const inputIds = [...prompt, ...answer];
  const from = options.promptLoss ? 0 : prompt.length;
  const labels = inputIds.map((id, t) => (t >= from ? id : IGNORE_INDEX));
  const counted = labels.filter((l, t) => t > 0 && l !== IGNORE_INDEX).length;
  return { inputIds, labels, counted };
}

export interface CollatedBatch {
  /** [batch][seq], right-padded with padId. */
  inputIds: number[][];
  /** Unshifted labels, right-padded with -100. */
  labels: number[][];
  /** 1 for real tokens, 0 for padding. */
  attentionMask: number[][];
  /**
   * Each example's share of the step's loss: the step's loss is the sum over its micro-batches of
   * sum_e exampleScales[e] * (mean token loss of e). Per-example means (rather than one mean over all
   * tokens) keep long ECPE answers from outweighing one-word ER answers; the task weights then decide.
   */
  exampleScales: number[];
  /** Counted tokens per example. */
  counted: number[];
  /** Tokens in the batch (padding excluded), for tokens/s. */
  tokens: number;
}

/** Pads a micro-batch (right side) and attaches each example's loss scale. */
export function collate(
  examples: readonly EncodedExample[],
  scales: readonly number[],
  padId: number,
): CollatedBatch {
  const seq = Math.max(1, ...examples.map((e) => e.inputIds.length));
  const pad = <T>(row: readonly T[], v: T) => [...row, ...new Array<T>(seq - row.length).fill(v)];
  return {
    inputIds: examples.map((e) => pad(e.inputIds, padId)),
    labels: examples.map((e) => pad(e.labels, IGNORE_INDEX)),
    attentionMask: examples.map((e) => pad(new Array<number>(e.inputIds.length).fill(1), 0)),
    exampleScales: [...scales],
    counted: examples.map((e) => e.counted),
    tokens: examples.reduce((s, e) => s + e.inputIds.length, 0),
  };
}
