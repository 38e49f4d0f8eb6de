// One analysis of a target utterance: its media analysed once, then the five tasks over the engine,
// concurrently where they do not depend on each other (MSA, ER, FER, ECPE's labelling at once; ERI and
// the target's ECPE after ER), each part handed to `onPart` as it finishes, with per-stage timings.

import type { EngineRequest, TaskEngine, TaskResult } from './engine.js';
import { invalidArgument } from './errors.js';
import { emotionCausePairsFlow, emotionReasonFlow, type FlowContext } from './task-flows.js';
import { checkText, type InputLimits, type Turn } from './validation.js';

/** The visual features every task shares; the media step may return more (the peak, its AUs). */
export interface AnalysedMedia {
  visual: Float32Array[];
}

export interface AnalysisRequest<M extends AnalysedMedia> {
  /** The conversation, oldest first. */
  conversation: Turn[];
  /** 1-based index of the target utterance. */
  target: number;
  adapter?: string;
  /** Analyses the target's media; called at most once per analysis. Absent: no media. */
  media?: () => Promise<M>;
}

export interface LabelScores {
  label: string;
  probabilities: { label: string; probability: number }[];
}

export interface CauseOfTarget {
  emotionUtt: number;
  causeUtt: number;
  emotion: string;
  causeSpeaker?: string;
  causeText: string;
}

export interface StageTiming {
  stage: string;
  startMs: number;
  durationMs: number;
}

/** Parts as they finish; `media` carries the analysed media, the others the task's answer. */
export type AnalysisPart<M extends AnalysedMedia> =
  | { part: 'media'; media: M }
  | { part: 'sentiment' | 'emotion'; scores: LabelScores }
  | { part: 'facial_expression'; caption: string }
  | { part: 'reason'; rationale: string; emotion: string }
  | { part: 'causes'; causes: CauseOfTarget[] };

export interface AnalysisResult<M extends AnalysedMedia> {
  target: number;
  sentiment: LabelScores;
  emotion: LabelScores;
  /** Set when the request had media. */
  facialExpression?: { caption: string; media: M };
  reason: { rationale: string; emotion: string };
  causes: CauseOfTarget[];
  modelVersion: string;
  timings: StageTiming[];
}

export interface AnalysisContext extends FlowContext {
  onPart?: (part: AnalysisPart<AnalysedMedia>) => void;
}

/** Checks the conversation and the target against the limits; throws INVALID_ARGUMENT with the reason. */
export function checkAnalysisRequest(conversation: Turn[], target: number, limits: InputLimits): void {
  if (conversation.length === 0) throw invalidArgument('the conversation is empty: give at least the target');
  if (!Number.isInteger(target) || target < 1 || target > conversation.length) {
    throw invalidArgument(
      `target ${target} is outside the ${conversation.length}-turn conversation (give 1..${conversation.length})`,
    );
  }
  if (conversation.length > limits.maxHistoryTurns) {
    throw invalidArgument(
      `the conversation has ${conversation.length} turns, the limit is ${limits.maxHistoryTurns}`,
    );
  }
  if (!conversation[target - 1].text.trim()) throw invalidArgument('the target utterance is empty');
  checkText(conversation[target - 1].text, 'the target utterance', limits.maxTextChars);
  conversation.forEach((t, i) => {
    checkText(t.text || '-', `conversation[${i}].text`, limits.maxTurnChars);
  });
}

/** Records how long each stage took from `t0`. */
function stopwatch() {
  const t0 = performance.now();
  const timings: StageTiming[] = [];
  const time = async <T>(stage: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      timings.push({ stage, startMs: start - t0, durationMs: performance.now() - start });
    }
  };
  const total = () => timings.push({ stage: 'total', startMs: 0, durationMs: performance.now() - t0 });
  return { time, timings, total };
}

function scores(r: TaskResult): LabelScores {
  return {
    label: r.label ?? '',
    probabilities: (r.probabilities ?? []).map((p) => ({ label: p.label, probability: p.probability })),
  };
}

/** The target's causes, each with the cause turn's speaker and text. */
function causesWithText(pairs: { emotionUtt: number; causeUtt: number; emotion: string }[], conv: Turn[]) {
  return pairs.map((p) => ({
    ...p,
    causeSpeaker: conv[p.causeUtt - 1]?.speaker,
    causeText: conv[p.causeUtt - 1]?.text ?? '',
  }));
}

/**
 * Analyses `request.target`: validates, analyses the media once, then MSA, ER and FER at once; ERI and
 * ECPE once ER has answered (ERI explains that emotion; ECPE takes it as the target's label while the
 * other unlabelled turns are labelled). Every part goes to `ctx.onPart` as soon as it is known.
 */
export async function analyzeUtterance<M extends AnalysedMedia>(
  engine: TaskEngine,
  request: AnalysisRequest<M>,
  limits: InputLimits,
  ctx: AnalysisContext = {},
): Promise<AnalysisResult<M>> {
  const { conversation, target } = request;
  checkAnalysisRequest(conversation, target, limits);
  const emit = (p: AnalysisPart<M>) => ctx.onPart?.(p as AnalysisPart<AnalysedMedia>);
  const { time, timings, total } = stopwatch();
  const turn = conversation[target - 1];
  const media = request.media ? await time('media', () => request.media!()) : undefined;
  if (media) emit({ part: 'media', media });
  const r: EngineRequest = {
    text: turn.text,
    speaker: turn.speaker,
    history: conversation.slice(0, target - 1),
    adapter: request.adapter,
    visual: media?.visual,
  };
  const classified = (part: 'sentiment' | 'emotion', run: () => Promise<TaskResult>) =>
    time(part, run).then((res) => {
      emit({ part, scores: scores(res) });
      return res;
    });
  const sentiment = classified('sentiment', () => engine.sentiment(r, ctx));
  const emotion = classified('emotion', () => engine.emotion(r, ctx));
  const fer = media
    ? time('facial_expression', () => engine.facialExpression(r, ctx)).then((res) => {
        emit({ part: 'facial_expression', caption: res.text });
        return { caption: res.text, media };
      })
    : undefined;
  const afterEmotion = emotion.then((er) => {
    const label = er.label ?? '';
    const reason = time('reason', () => emotionReasonFlow(engine, r, label, ctx)).then((out) => {
      const value = { rationale: out.result.text, emotion: out.emotion };
      emit({ part: 'reason', ...value });
      return value;
    });
    const labelled = conversation.map((t, i) => (i === target - 1 ? { ...t, emotion: label } : { ...t }));
    const ecpeRequest = { ...r, text: '', history: labelled };
    const causes = time('causes', () => emotionCausePairsFlow(engine, ecpeRequest, target, limits, ctx)).then(
      (out) => {
        const value = causesWithText(out.pairs, conversation);
        emit({ part: 'causes', causes: value });
        return value;
      },
    );
    return Promise.all([reason, causes]);
  });
  const [msa, er, ferOut, [reason, causes]] = await Promise.all([sentiment, emotion, fer, afterEmotion]);
  total();
  return {
    target,
    sentiment: scores(msa),
    emotion: scores(er),
    facialExpression: ferOut,
    reason,
    causes,
    modelVersion: er.modelVersion,
    timings,
  };
}
