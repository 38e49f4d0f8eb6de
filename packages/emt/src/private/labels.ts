// Label checks for loaders: source files spell labels in lower case, but be lenient about case and spaces.
import { MELD_EMOTIONS, type MeldEmotion, SENTIMENTS, type Sentiment } from '@emoverse/metrics';

export function asEmotion(raw: string | undefined): MeldEmotion | undefined {
  const v = raw?.trim().toLowerCase();
  return (MELD_EMOTIONS as readonly string[]).includes(v ?? '') ? (v as MeldEmotion) : undefined;
}

export function asSentiment(raw: string | undefined): Sentiment | undefined {
  const v = raw?.trim().toLowerCase();
  return (SENTIMENTS as readonly string[]).includes(v ?? '') ? (v as Sentiment) : undefined;
}
