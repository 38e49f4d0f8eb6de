// Multi-call task flows over TaskEngine: FER (caption + emotion), ERI (emotion first when not given), ECPE (checks, ER-labelling fan-out, de-duplication) and Generate's prompt choice.
//
// The gateway's handlers call these with a validated EngineRequest; each model call goes through
// `span(task, fn)` so that the caller can trace it (the gateway passes telemetry's withSpan).

import type { EcpePair } from '@emoverse/metrics';
import type { SubmitOptions } from './batcher.js';
import type { EngineRequest, TaskEngine, TaskResult } from './engine.js';
import { invalidArgument } from './errors.js';
import {
  ecpePrompt,
  emotionPrompt,
  emotionReasonPrompt,
  facialExpressionPrompt,
  sentimentPrompt,
  type Task,
} from './prompts.js';
import { checkText, type InputLimits, type Turn } from './validation.js';

/** Wraps one model call of a flow (a trace span in the gateway); the default just runs it. */
export type TaskSpan = <T>(task: string, fn: () => Promise<T>) => Promise<T>;

const untraced: TaskSpan = (_task, fn) => fn();

export interface FlowContext extends SubmitOptions {
  span?: TaskSpan;
}

/** FER: the caption is generated; the emotion it is read as is scored alongside. */
export async function facialExpressionFlow(
  engine: TaskEngine,
  r: EngineRequest,
  ctx: FlowContext = {},
): Promise<{ caption: TaskResult; emotion: TaskResult }> {
  const span = ctx.span ?? untraced;
  const [caption, emotion] = await span('fer', () =>
    Promise.all([engine.facialExpression(r, ctx), engine.emotion({ ...r, text: r.text || '-' }, ctx)]),
  );
  return { caption, emotion };
}

/** ERI: a given emotion must be one lowercase word; without one, the model's ER answer is used. */
export async function emotionReasonFlow(
  engine: TaskEngine,
  r: EngineRequest,
  givenEmotion: string,
  ctx: FlowContext = {},
): Promise<{ result: TaskResult; emotion: string }> {
  const span = ctx.span ?? untraced;
  let emotion = givenEmotion.trim().toLowerCase();
  if (emotion && !/^[a-z]+$/.test(emotion)) throw invalidArgument(`emotion '${givenEmotion}' is not a label`);
  if (!emotion) emotion = (await span('er', () => engine.emotion(r, ctx))).label ?? '';
  const result = await span('eri', () => engine.emotionReason({ ...r, emotion }, ctx));
  return { result, emotion };
}

/** The conversation an ECPE request describes (history, then the text as the last turn), checked against the limits. */
export function ecpeConversation(r: EngineRequest, target: number, limits: InputLimits): Turn[] {
  const conversation: Turn[] = [...(r.history ?? [])];
  if (r.text.trim()) conversation.push({ speaker: r.speaker, text: r.text });
  if (conversation.length === 0) {
    throw invalidArgument('the conversation is empty: give input.history and/or input.text');
  }
  if (conversation.length > limits.maxHistoryTurns) {
    throw invalidArgument(
      `the conversation has ${conversation.length} turns, the limit is ${limits.maxHistoryTurns}`,
    );
  }
  conversation.forEach((t, i) => {
    checkText(t.text, `turn ${i + 1} text`, limits.maxTurnChars);
    if (t.emotion && !/^[A-Za-z]+$/.test(t.emotion)) {
      throw invalidArgument(`turn ${i + 1} emotion '${t.emotion}' is not a label`);
    }
  });
  if (target > conversation.length) {
    throw invalidArgument(`target ${target} is beyond the ${conversation.length}-turn conversation`);
  }
  return conversation;
}

/** Turns without an emotion label get the model's own ER answer (in place), all at once. */
export async function labelConversation(
  engine: TaskEngine,
  r: EngineRequest,
  conversation: Turn[],
  ctx: FlowContext = {},
): Promise<void> {
  const span = ctx.span ?? untraced;
  await Promise.all(
    conversation.map(async (t, i) => {
      if (t.emotion) return;
      const er = await span('er', () =>
        engine.emotion({ ...r, text: t.text, history: conversation.slice(0, i) }, ctx),
      );
      t.emotion = er.label;
    }),
  );
}

/** The utterances to ask ECPE about: the given target (1-based), or every non-neutral one. */
export function ecpeTargets(conversation: Turn[], target: number): number[] {
  if (target) return [target];
  return conversation.flatMap((t, i) => (t.emotion?.toLowerCase() === 'neutral' ? [] : [i + 1]));
}

/** Pairs over several answers, each (emotion, cause) once, in first-seen order. */
export function dedupePairs(pairs: EcpePair[]): EcpePair[] {
  const seen = new Set<string>();
  return pairs.filter((p) => {
    const k = `${p.emotionUtt},${p.causeUtt}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export interface EcpeFlowResult {
  /** Each pair with its emotion: the answer's, else the (given or ER-labelled) turn's. */
  pairs: { emotionUtt: number; causeUtt: number; emotion: string }[];
  rawText: string;
  modelVersion: string;
}

/** ECPE over a whole request: check, label unlabeled turns, ask per target, merge the pairs. */
export async function emotionCausePairsFlow(
  engine: TaskEngine,
  r: EngineRequest,
  target: number,
  limits: InputLimits,
  ctx: FlowContext = {},
): Promise<EcpeFlowResult> {
  const span = ctx.span ?? untraced;
  const conversation = ecpeConversation(r, target, limits);
  await labelConversation(engine, r, conversation, ctx);
  const targets = ecpeTargets(conversation, target);
  const results = await span('ecpe', () =>
    Promise.all(targets.map((t) => engine.emotionCausePairs({ ...r, conversation, target: t }, ctx))),
  );
  const pairs = dedupePairs(results.flatMap((x) => x.pairs ?? []));
  return {
    pairs: pairs.map((p) => ({ ...p, emotion: p.emotion ?? conversation[p.emotionUtt - 1]?.emotion ?? '' })),
    rawText: results.map((x) => x.text).join(targets.length > 1 ? '\n' : ''),
    modelVersion: results[0]?.modelVersion ?? '',
  };
}

/** Generate's prompt: the text formatted as a task's instruction, or the raw text when no task is given. */
export function taskPrompt(task: Task | undefined, r: EngineRequest): string {
  switch (task) {
    case 'msa':
      return sentimentPrompt(r.text);
    case 'er':
      return emotionPrompt(r.text);
    case 'fer':
      return facialExpressionPrompt();
    case 'eri':
      return emotionReasonPrompt(r.text, r.history, r.speaker);
    case 'ecpe': {
      const conversation = [...(r.history ?? []), { text: r.text }].map((t) => ({
        ...t,
        emotion: t.emotion ?? 'neutral',
      }));
      return ecpePrompt(conversation, conversation.length);
    }
    default:
      return r.text;
  }
}
