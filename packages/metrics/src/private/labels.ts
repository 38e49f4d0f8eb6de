// The label sets the paper evaluates on, and the words a model may use for them.

/** MELD's 7 emotion classes (ER), in the order the paper's prompt lists them. */
export const MELD_EMOTIONS = ['anger', 'sadness', 'surprise', 'disgust', 'joy', 'neutral', 'fear'] as const;
export type MeldEmotion = (typeof MELD_EMOTIONS)[number];

/** MELD's 3 sentiment classes (MSA). */
export const SENTIMENTS = ['positive', 'negative', 'neutral'] as const;
export type Sentiment = (typeof SENTIMENTS)[number];

// Synonyms a generative model tends to answer with. Keys are lower-case words after punctuation is removed.
const EMOTION_WORDS: Record<string, MeldEmotion> = {
  anger: 'anger',
  angry: 'anger',
  mad: 'anger',
  furious: 'anger',
  annoyed: 'anger',
  rage: 'anger',
  sadness: 'sadness',
  sad: 'sadness',
  sorrow: 'sadness',
  unhappy: 'sadness',
  upset: 'sadness',
  surprise: 'surprise',
  surprised: 'surprise',
  astonished: 'surprise',
  shocked: 'surprise',
  amazed: 'surprise',
  disgust: 'disgust',
  disgusted: 'disgust',
  contempt: 'disgust',
  joy: 'joy',
  joyful: 'joy',
  happy: 'joy',
  happiness: 'joy',
  glad: 'joy',
  excited: 'joy',
  delighted: 'joy',
  neutral: 'neutral',
  calm: 'neutral',
  none: 'neutral',
  fear: 'fear',
  afraid: 'fear',
  scared: 'fear',
  fearful: 'fear',
  frightened: 'fear',
  anxious: 'fear',
  worried: 'fear',
};

const SENTIMENT_WORDS: Record<string, Sentiment> = {
  positive: 'positive',
  pos: 'positive',
  negative: 'negative',
  neg: 'negative',
  neutral: 'neutral',
  neu: 'neutral',
};

/** Lower-case words of a free-text answer, punctuation (ASCII and typographic) removed. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .split(/[^\p{L}]+/u)
    .filter((w) => w.length > 0);
}

export function emotionOfWord(word: string): MeldEmotion | undefined {
  return EMOTION_WORDS[word];
}

export function sentimentOfWord(word: string): Sentiment | undefined {
  return SENTIMENT_WORDS[word];
}
