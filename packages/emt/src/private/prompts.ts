// The instruction of each task. ER and ECPE reproduce the paper's released prompts character for character
// (data/m2se_format); the instruction states the task and the answer format, which is what lets one model
// tell ER from ERI. "<emotion>" is the paper's placeholder where the visual tokens go.
import type { EcpePair, MeldEmotion, Sentiment } from '@emoverse/metrics';
import type { SourceUtterance } from './types.js';

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function erQuery(text: string): string {
  return `The person says: '${text}' <emotion> Please determine which emotion label in the video represents: anger, sadness, surprise, disgust, joy, neutral or fear.`;
}

export function erResponse(emotion: MeldEmotion): string {
  return `${capital(emotion)}.`;
}

export function msaQuery(text: string, withScore: boolean): string {
  const base = `The person says: '${text}' <emotion> Please determine the sentiment of the person in the video: positive, negative or neutral.`;
  return withScore
    ? `${base} Then give its intensity as a score from -3 (strongly negative) to 3 (strongly positive), as "<sentiment>, score <number>."`
    : base;
}

export function msaResponse(sentiment: Sentiment, score?: number): string {
  return score === undefined ? `${capital(sentiment)}.` : `${capital(sentiment)}, score ${score.toFixed(2)}.`;
}

export function ferQuery(): string {
  return '<emotion> Please describe the facial expression of the person in the video: name the visible facial action units in a few words, separated by ";".';
}

export function eriQuery(target: SourceUtterance, context: readonly SourceUtterance[]): string {
  const ctx = context.map((u) => `${u.speaker}: ${u.text}`).join('\n');
  return (
    `${ctx ? `Conversation so far:\n${ctx}\n` : ''}${target.speaker} says: '${target.text}' <emotion> ` +
    'Please infer the emotion of the person in the video and explain why they feel it, using their facial expression, their words and the conversation. Answer with the emotion first, then the reasons.'
  );
}

/** "3_joy. Phoebe: text" — one numbered line of the ECPE conversation. */
export function ecpeLine(u: SourceUtterance): string {
  return `${u.index}_${u.emotion ?? 'neutral'}. ${u.speaker}: ${u.text}`;
}

/** The paper's ECPE prompt for one target utterance: candidates are the utterances before it. */
export function ecpeTargetQuery(conversation: readonly SourceUtterance[], target: SourceUtterance): string {
  const all = conversation.map(ecpeLine).join('\n');
  const candidates = conversation
    .filter((u) => u.index < target.index)
    .map((u) => `${ecpeLine(u)}\n`)
    .join('');
  return (
    'Below is a conversation containing multiple utterances from different speakers, \n' +
    'along with the corresponding emotion label for each utterance. \n' +
    'Your task is to identify the indices of the candidate utterances that elicited the emotion in the target utterance.\n' +
    `Input conversation:${all}\n` +
    `Candidate utterances:${candidates}` +
    `Target utterance:${ecpeLine(target)}\n` +
    'You need to return the answer as, for example, "3_surprise,1", \n' +
    'which means that the emotion of surprise in the third sentence is related to the first sentence, \n' +
    'and if the emotion is related to more than one sentence, separate the sentences with “;”.\n' +
    'The emotion-cause indices of the target utterance are:'
  );
}

/** Whole-conversation variant: every pair of the conversation in one answer. */
export function ecpeConversationQuery(conversation: readonly SourceUtterance[]): string {
  return (
    'Below is a conversation containing multiple utterances from different speakers, \n' +
    'along with the corresponding emotion label for each utterance. \n' +
    'Your task is to find every emotion-cause pair: for each utterance with an emotion, the indices of the utterances that elicited it.\n' +
    `Input conversation:${conversation.map(ecpeLine).join('\n')}\n` +
    'You need to return the answer as, for example, "3_surprise,1", \n' +
    'which means that the emotion of surprise in the third sentence is related to the first sentence, \n' +
    'and separate the pairs with “;”.\n' +
    'The emotion-cause pairs of the conversation are:'
  );
}

/** "6_disgust,5;6_disgust,6" (empty when the target has no annotated cause). */
export function ecpeResponse(pairs: readonly EcpePair[]): string {
  return pairs.map((p) => `${p.emotionUtt}_${p.emotion ?? 'neutral'},${p.causeUtt}`).join(';');
}
