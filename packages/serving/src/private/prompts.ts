// The instruction prompts of the five tasks, taken from @emoverse/emt so that a model tuned on EMT
// records sees at serving time exactly the text it was trained on. ER and ECPE reproduce, character
// for character, the queries of the paper's released test files (ms-swift format, see
// shared/data/m2se_format). The parsers go the other way, from a released query back to the
// structured request, and `detectTask` tells which task a query asks for.

import { prompts, type SourceUtterance } from '@emoverse/emt';
import type { Turn } from './validation.js';

/** The five tasks, by the project's short names (as in @emoverse/proto's TASK_NAMES). */
export type Task = 'msa' | 'er' | 'fer' | 'eri' | 'ecpe';
export const TASKS: readonly Task[] = ['msa', 'er', 'fer', 'eri', 'ecpe'];

/** MELD's seven emotions, in the order the ER prompt lists them. */
export const EMOTION_LABELS = ['anger', 'sadness', 'surprise', 'disgust', 'joy', 'neutral', 'fear'] as const;
export const SENTIMENT_LABELS = ['positive', 'negative', 'neutral'] as const;

/** The answer text a tuned model gives for a class label: 'Sadness.' (as EMT's responses). */
export function labelAnswer(label: string): string {
  return `${label.charAt(0).toUpperCase()}${label.slice(1)}.`;
}

/** EMT's prompt functions take source utterances; requests only have speaker and text. */
function utterance(turn: Turn, index: number): SourceUtterance {
  return {
    id: `request/${index}`,
    source: 'meld',
    split: 'test',
    conversationId: 'request',
    index,
    speaker: turn.speaker ?? 'Speaker',
    text: turn.text,
    emotion: turn.emotion as SourceUtterance['emotion'],
  };
}

/** ER (emotion recognition), as in the released test files. EMT's ER records carry no history. */
export function emotionPrompt(text: string): string {
  return prompts.erQuery(text);
}

/** MSA (sentiment) over MELD's three classes, as EMT's records ask it. */
export function sentimentPrompt(text: string): string {
  return prompts.msaQuery(text, false);
}

/** FER: a caption of the facial expression, from the visual tokens alone. */
export function facialExpressionPrompt(): string {
  return prompts.ferQuery();
}

/** ERI: the emotion, then the reasons, for `text` said by `speaker` after `history`. */
export function emotionReasonPrompt(text: string, history: Turn[] = [], speaker?: string): string {
  return prompts.eriQuery(
    utterance({ speaker, text }, history.length + 1),
    history.map((t, i) => utterance(t, i + 1)),
  );
}

// The ER query around its utterance, e.g. ["The person says: '", "' <emotion> Please ..."].
const [ER_HEAD, ER_TAIL] = prompts.erQuery('\u0000').split('\u0000');

/**
 * ECPE for the target utterance `target` (1-based) of a conversation whose utterances carry
 * emotion labels: the whole conversation, the candidates (the utterances before the target), then
 * the target, then the answer instructions.
 */
export function ecpePrompt(conversation: Turn[], target: number): string {
  if (!Number.isInteger(target) || target < 1 || target > conversation.length) {
    throw new RangeError(
      `target ${target} is not an utterance of a ${conversation.length}-utterance conversation`,
    );
  }
  const utterances = conversation.map((t, i) => utterance({ ...t, emotion: t.emotion ?? 'neutral' }, i + 1));
  return prompts.ecpeTargetQuery(utterances, utterances[target - 1]);
}

/** The ER query's utterance, or undefined when `query` is not an ER query. */
export function parseEmotionQuery(query: string): { text: string } | undefined {
  if (!query.startsWith(ER_HEAD) || !query.endsWith(ER_TAIL)) return undefined;
  if (query.length < ER_HEAD.length + ER_TAIL.length) return undefined;
  return { text: query.slice(ER_HEAD.length, query.length - ER_TAIL.length) };
}

// The MSA query around its utterance.
const [MSA_HEAD, MSA_TAIL] = prompts.msaQuery('\u0000', false).split('\u0000');

/** The MSA query's utterance, or undefined when `query` is not a (three-class) MSA query. */
export function parseSentimentQuery(query: string): { text: string } | undefined {
  if (!query.startsWith(MSA_HEAD) || !query.endsWith(MSA_TAIL)) return undefined;
  if (query.length < MSA_HEAD.length + MSA_TAIL.length) return undefined;
  return { text: query.slice(MSA_HEAD.length, query.length - MSA_TAIL.length) };
}

const LINE = /^(\d+)_([A-Za-z]+)\. (.*?): (.*)$/;

/** The ECPE query's conversation and target, or undefined when `query` is not an ECPE query. */
export function parseEcpeQuery(query: string): { conversation: Turn[]; target: number } | undefined {
  const m = /Input conversation:([\s\S]*?)\nCandidate utterances:[\s\S]*?Target utterance:(\d+)_/.exec(query);
  if (!m) return undefined;
  const conversation: Turn[] = [];
  for (const line of m[1].split('\n')) {
    const u = LINE.exec(line);
    if (!u || Number(u[1]) !== conversation.length + 1) return undefined;
    conversation.push({ emotion: u[2], speaker: u[3], text: u[4] });
  }
  const target = Number(m[2]);
  return target >= 1 && target <= conversation.length ? { conversation, target } : undefined;
}

/**
 * Which task a free-form query asks for: ER prompts list the emotion choices, ECPE prompts list
 * numbered utterances and ask for emotion-cause indices.
 */
export function detectTask(query: string): Task | undefined {
  if (/Input conversation:/.test(query) && /emotion-cause|cause indices|elicited the emotion/i.test(query)) {
    return 'ecpe';
  }
  const q = query.toLowerCase();
  if (/emotion label/.test(q) && EMOTION_LABELS.every((l) => q.includes(l))) return 'er';
  if (/sentiment/.test(q) && SENTIMENT_LABELS.every((l) => q.includes(l))) return 'msa';
  if (/describe the facial expression/.test(q)) return 'fer';
  if (/explain why|infer the reason|reasons/.test(q)) return 'eri';
  return undefined;
}
