// The instruction prompts of the five tasks. ER and ECPE reproduce, character for character, the
// queries of the paper's released test files (ms-swift format, see shared/data/m2se_format), so a
// model tuned on EMT records sees at serving time exactly the text it was trained on. The parsers
// go the other way, from a released query back to the structured request, and `detectTask` tells
// which task a query asks for.

import type { Turn } from './validation.js';

/** The five tasks, by the project's short names (as in @emoverse/proto's TASK_NAMES). */
export type Task = 'msa' | 'er' | 'fer' | 'eri' | 'ecpe';
export const TASKS: readonly Task[] = ['msa', 'er', 'fer', 'eri', 'ecpe'];

/** MELD's seven emotions, in the order the ER prompt lists them. */
export const EMOTION_LABELS = ['anger', 'sadness', 'surprise', 'disgust', 'joy', 'neutral', 'fear'] as const;
export const SENTIMENT_LABELS = ['positive', 'negative', 'neutral'] as const;

/** 'a, b, c or d' */
function listOr(labels: readonly string[]): string {
  return `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}`;
}

/** The answer text a tuned model gives for a class label: 'Sadness.' */
export function labelAnswer(label: string): string {
  return `${label.charAt(0).toUpperCase()}${label.slice(1)}.`;
}

/** Earlier turns, one line each, placed before the instruction when a request carries history. */
function historyPreamble(history: Turn[] | undefined): string {
  if (!history?.length) return '';
  const lines = history.map((t) => (t.speaker ? `${t.speaker}: ${t.text}` : t.text));
  return `Conversation so far:\n${lines.join('\n')}\n`;
}

const ER_TAIL = ` <emotion> Please determine which emotion label in the video represents: ${listOr(EMOTION_LABELS)}.`;

/** ER (emotion recognition), as in the released test files. */
export function emotionPrompt(text: string, history?: Turn[]): string {
  return `${historyPreamble(history)}The person says: '${text}'${ER_TAIL}`;
}

/** MSA (sentiment), built like ER with MELD's three sentiment classes. */
export function sentimentPrompt(text: string, history?: Turn[]): string {
  return `${historyPreamble(history)}The person says: '${text}' <sentiment> Please determine which sentiment label in the video represents: ${listOr(SENTIMENT_LABELS)}.`;
}

/** FER: a caption of the facial expression, from the peak frame's action units. */
export function facialExpressionPrompt(text: string, history?: Turn[]): string {
  return `${historyPreamble(history)}The person says: '${text}' <expression> Please describe the facial expression of the person in the video, naming the facial actions you see.`;
}

/** ERI: a rationale for the person's emotion, given when known. */
export function emotionReasonPrompt(text: string, history?: Turn[], emotion?: string): string {
  const feels = emotion ? ` The person feels ${emotion}.` : '';
  return `${historyPreamble(history)}The person says: '${text}'${feels} <reason> Please infer the reason for the person's emotion from the video and the conversation.`;
}

const ECPE_HEAD =
  'Below is a conversation containing multiple utterances from different speakers, \n' +
  'along with the corresponding emotion label for each utterance. \n' +
  'Your task is to identify the indices of the candidate utterances that elicited the emotion in the target utterance.\n';
const ECPE_TAIL =
  'You need to return the answer as, for example, "3_surprise,1", \n' +
  'which means that the emotion of surprise in the third sentence is related to the first sentence, \n' +
  'and if the emotion is related to more than one sentence, separate the sentences with \u201c;\u201d.\n' +
  'The emotion-cause indices of the target utterance are:';

/** `<i>_<emotion>. <Speaker>: <text>`, i counted from 1. */
function utteranceLine(turn: Turn, index: number): string {
  return `${index}_${turn.emotion ?? 'neutral'}. ${turn.speaker ?? 'Speaker'}: ${turn.text}`;
}

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
  const lines = conversation.map((t, i) => utteranceLine(t, i + 1));
  const candidates = lines.slice(0, target - 1);
  return (
    `${ECPE_HEAD}Input conversation:${lines.join('\n')}\n` +
    `Candidate utterances:${candidates.map((l) => `${l}\n`).join('')}` +
    `Target utterance:${lines[target - 1]}\n${ECPE_TAIL}`
  );
}

/** The ER query's utterance, or undefined when `query` is not an ER query. */
export function parseEmotionQuery(query: string): { text: string } | undefined {
  const m = /^The person says: '([\s\S]*)'$/.exec(
    query.endsWith(ER_TAIL) ? query.slice(0, -ER_TAIL.length) : '',
  );
  return m ? { text: m[1] } : undefined;
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
  if (/facial expression/.test(q)) return 'fer';
  if (/reason|why/.test(q)) return 'eri';
  return undefined;
}
