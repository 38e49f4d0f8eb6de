// Tokenizing an instruction example for causal-LM training and collating micro-batches.
// Labels are already shifted (label at position t is the token at t + 1), and only response tokens
// count: the prompt is context, as in ms-swift's instruction tuning. -100 marks positions to ignore.
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

/** The layout of models' DEFAULT_CHAT_TEMPLATE, answer closed by a newline. */
export const DEFAULT_PROMPT_FORMAT: PromptFormat = {
  prompt: (q) => `<|user|>\n${q}\n<|assistant|>\n`,
  completion: (r) => `${r}\n`,
};

export interface EncodedExample {
  inputIds: number[];
  labels: number[];
  /** Positions whose label counts (response tokens). */
  counted: number;
}

/**
 * Token ids and shifted labels. If too long for maxSeqLen, the prompt loses its start (the task
 * instruction sits at its end in EMT's queries) and the response keeps at least half the window.
 */
export function encodeExample(
  tokenizer: Tokenizer,
  example: Pick<EmtExample, 'query' | 'response'>,
  options: { maxSeqLen: number; format?: PromptFormat; bosId?: number; eosId?: number },
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
    prompt = prompt.slice(prompt.length - (max - keepAnswer));
  }
  const inputIds = [...prompt, ...answer];
  const labels = inputIds.map((_, t) =>
    t + 1 >= prompt.length && t + 1 < inputIds.length ? inputIds[t + 1] : IGNORE_INDEX,
  );
  const counted = labels.filter((l) => l !== IGNORE_INDEX).length;
  return { inputIds, labels, counted };
}

export interface CollatedBatch {
  /** [batch][seq], right-padded with padId. */
  inputIds: number[][];
  labels: number[][];
  /** 1 for real tokens, 0 for padding. */
  attentionMask: number[][];
  /** Per token weight of its cross-entropy in the micro-batch loss (0 where the label is ignored). */
  tokenWeights: number[][];
  /** Tokens in the batch (padding excluded), for tokens/s. */
  tokens: number;
}

/**
 * Pads a micro-batch and spreads each example's loss scale over its counted tokens: the micro-batch
 * loss is sum_e scale_e * (mean token loss of e). Per-example means (rather than one mean over all
 * tokens) keep long ECPE answers from outweighing one-word ER answers; the task weights then decide.
 */
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
    tokenWeights: examples.map((e, i) =>
      pad(
        e.labels.map((l) => (l === IGNORE_INDEX || e.counted === 0 ? 0 : scales[i] / e.counted)),
        0,
      ),
    ),
    tokens: examples.reduce((s, e) => s + e.inputIds.length, 0),
  };
}
