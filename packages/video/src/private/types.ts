// Plain types shared by the video pipeline: points, boxes, the seven expression classes.
export interface Point {
  x: number;
  y: number;
}

/** [x, y, width, height] in frame pixels. */
export type Box = [number, number, number, number];

/** face-api's seven expression classes, probabilities summing to 1. */
export type Expression = 'neutral' | 'happy' | 'sad' | 'angry' | 'fearful' | 'disgusted' | 'surprised';
export const EXPRESSIONS: readonly Expression[] = [
  'neutral',
  'happy',
  'sad',
  'angry',
  'fearful',
  'disgusted',
  'surprised',
];
