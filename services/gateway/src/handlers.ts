// The GatewayService RPCs: proto in, serving engine, proto out. Each request is checked
// (auth, decoding, inputs), its media turned into visual features through au-scorer, then
// answered by the engine; every failure becomes a gRPC status with a clear message.

import { timingSafeEqual } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import {
  type ConversationTurn,
  EmotionCausePairsResponseSchema,
  EmotionReasonResponseSchema,
  EmotionResponseSchema,
  FacialExpressionResponseSchema,
  type GatewayService,
  type GenerateResponse,
  GenerateResponseSchema,
  type Media,
  ModelInfoSchema,
  type TaskInput as ProtoTaskInput,
  SentimentResponseSchema,
  Task,
} from '@emoverse/proto';
import type { CallContext, ServiceImpl } from '@emoverse/service-kit';
import {
  checkText,
  type EngineRequest,
  ecpePrompt,
  emotionPrompt,
  emotionReasonPrompt,
  facialExpressionPrompt,
  type InputLimits,
  invalidArgument,
  type MediaInput,
  ServingError,
  sentimentPrompt,
  type TaskEngine,
  type TaskResult,
  type Turn,
  validateTaskInput,
} from '@emoverse/serving';
import { withSpan } from '@emoverse/telemetry';
import * as grpc from '@grpc/grpc-js';
import type { MediaPipeline, VisualFeatures } from './media.js';
import { toGrpcError } from './status.js';

export interface GatewayHandlerOptions {
  engine: TaskEngine;
  /** Turns media into visual features; without it, requests with media get UNAVAILABLE. */
  media?: MediaPipeline;
  limits: InputLimits;
  modelId: string;
  /** Bearer token required in the `authorization` metadata; unset leaves the API open. */
  token?: string;
  /** Accept Media.path (a file on the vision services' hosts). Off by default: clients send bytes or blobs. */
  allowMediaPaths?: boolean;
}

interface RequestContext {
  deadline?: number;
  signal: AbortSignal;
}

class Unauthenticated extends Error {}

/** The serving view of a proto Media, for validation. */
function mediaInput(media: Media | undefined, allowPaths: boolean): MediaInput | undefined {
  const s = media?.source;
  switch (s?.case) {
    case undefined:
      return undefined;
    case 'image':
      return { image: s.value };
    case 'video':
      return { video: s.value };
    case 'frames':
      if (s.value.refs.length && !s.value.images.length) {
        return { ref: `${s.value.refs[0].bucket}/${s.value.refs[0].name}` };
      }
      return { frames: s.value.images };
    case 'blob':
      return { ref: `${s.value.bucket}/${s.value.name}` };
    case 'path':
      if (!allowPaths) {
        throw invalidArgument(
          'media.path is not accepted by this gateway: send the image or video bytes, or a blob',
        );
      }
      return undefined;
  }
}

function turns(history: ConversationTurn[]): Turn[] {
  return history.map((t) => ({
    speaker: t.speaker || undefined,
    text: t.text,
    emotion: t.emotion || undefined,
  }));
}

/**
 * Pieces pushed by a callback, as an async iterable: Generate's tokens arrive through the engine's
 * onToken callback and leave through service-kit's streaming writer (which handles back-pressure).
 */
function callbackStream<T, R>(
  run: (push: (item: T) => void) => Promise<R>,
): { items: AsyncGenerator<T>; result: Promise<R> } {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const result = run((item) => {
    queue.push(item);
    wake?.();
  }).finally(() => {
    done = true;
    wake?.();
  });
  result.catch(() => {});
  async function* items(): AsyncGenerator<T> {
    for (;;) {
      while (queue.length) yield queue.shift()!;
      if (done) return;
      await new Promise<void>((r) => {
        wake = r;
      });
      wake = undefined;
    }
  }
  return { items: items(), result };
}

/** The GatewayService RPCs, for service-kit's ctx.addService (which adds tracing, latency metrics and status mapping). */
export function gatewayImpl(o: GatewayHandlerOptions): ServiceImpl<typeof GatewayService> {
  const expected = o.token ? Buffer.from(`Bearer ${o.token}`) : undefined;

  function authorize(md: grpc.Metadata): void {
    if (!expected) return;
    const got = Buffer.from(String(md.get('authorization')[0] ?? ''));
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw new Unauthenticated('a valid bearer token is required in the authorization metadata');
    }
  }

  function requestContext(call: CallContext): RequestContext {
    return { signal: call.signal, deadline: call.deadline?.getTime() };
  }

  /** Auth, then the handler; every failure leaves as a gRPC status with a clear message. */
  function guarded<Req, Res>(fn: (req: Req, ctx: RequestContext) => Promise<Res>) {
    return async (req: Req, call: CallContext): Promise<Res> => {
      try {
        authorize(call.metadata);
        return await fn(req, requestContext(call));
      } catch (e) {
        if (e instanceof Unauthenticated) throw toGrpcError(e, grpc.status.UNAUTHENTICATED);
        throw toGrpcError(e);
      }
    };
  }

  /** Validates a TaskInput and fetches its visual features. */
  async function prepare(
    input: ProtoTaskInput | undefined,
    ctx: RequestContext,
    requireText = true,
  ): Promise<EngineRequest & { features?: VisualFeatures }> {
    const text = input?.text ?? '';
    const history = turns(input?.history ?? []);
    const media = mediaInput(input?.media, o.allowMediaPaths ?? false);
    validateTaskInput({ text: requireText ? text : text || '-', history, media }, o.limits);
    let features: VisualFeatures | undefined;
    if (input?.media?.source.case) {
      if (!o.media) throw new ServingError('UNAVAILABLE', 'media processing (au-scorer) is not configured');
      features = await o.media.features(input.media, ctx);
    }
    return {
      text,
      speaker: input?.speaker || undefined,
      history,
      adapter: input?.adapter || undefined,
      visual: features?.visual,
      features,
    };
  }

  function modelInfo(version: string, adapter: string | undefined) {
    return create(ModelInfoSchema, { modelId: o.modelId, version, adapter: adapter ?? '' });
  }

  function probabilities(r: TaskResult) {
    return (r.probabilities ?? []).map((p) => ({ label: p.label, probability: p.probability }));
  }

  const model = <T>(task: string, fn: () => Promise<T>) => withSpan(`model.${task}`, fn);

  return {
    sentiment: guarded(async (req, ctx) => {
      const r = await prepare(req.input, ctx);
      const res = await model('msa', () => o.engine.sentiment(r, ctx));
      return create(SentimentResponseSchema, {
        label: res.label,
        probabilities: probabilities(res),
        rawText: res.text,
        model: modelInfo(res.modelVersion, r.adapter),
      });
    }),

    emotion: guarded(async (req, ctx) => {
      const r = await prepare(req.input, ctx);
      const res = await model('er', () => o.engine.emotion(r, ctx));
      return create(EmotionResponseSchema, {
        label: res.label,
        probabilities: probabilities(res),
        rawText: res.text,
        model: modelInfo(res.modelVersion, r.adapter),
      });
    }),

    facialExpression: guarded(async (req, ctx) => {
      // The face is the input here: text is optional when media is given.
      const r = await prepare(req.input, ctx, !req.input?.media?.source.case);
      // The caption is generated; the emotion it is read as is scored alongside.
      const [caption, emotion] = await model('fer', () =>
        Promise.all([
          o.engine.facialExpression(r, ctx),
          o.engine.emotion({ ...r, text: r.text || '-' }, ctx),
        ]),
      );
      return create(FacialExpressionResponseSchema, {
        caption: caption.text,
        label: emotion.label,
        probabilities: probabilities(emotion),
        peak: r.features?.peak,
        activeAus: r.features?.activeAus ?? [],
        rawText: caption.text,
        model: modelInfo(caption.modelVersion, r.adapter),
      });
    }),

    emotionReason: guarded(async (req, ctx) => {
      const r = await prepare(req.input, ctx);
      let emotion = req.emotion.trim().toLowerCase();
      if (emotion && !/^[a-z]+$/.test(emotion))
        throw invalidArgument(`emotion '${req.emotion}' is not a label`);
      if (!emotion) emotion = (await model('er', () => o.engine.emotion(r, ctx))).label ?? '';
      const res = await model('eri', () => o.engine.emotionReason({ ...r, emotion }, ctx));
      return create(EmotionReasonResponseSchema, {
        rationale: res.text,
        emotion,
        rawText: res.text,
        model: modelInfo(res.modelVersion, r.adapter),
      });
    }),

    emotionCausePairs: guarded(async (req, ctx) => {
      const r = await prepare(req.input, ctx, false);
      const conversation: Turn[] = [...(r.history ?? [])];
      if (r.text.trim()) conversation.push({ speaker: req.input?.speaker || undefined, text: r.text });
      if (conversation.length === 0) {
        throw invalidArgument('the conversation is empty: give input.history and/or input.text');
      }
      if (conversation.length > o.limits.maxHistoryTurns) {
        throw invalidArgument(
          `the conversation has ${conversation.length} turns, the limit is ${o.limits.maxHistoryTurns}`,
        );
      }
      conversation.forEach((t, i) => {
        checkText(t.text, `turn ${i + 1} text`, o.limits.maxTurnChars);
        if (t.emotion && !/^[A-Za-z]+$/.test(t.emotion)) {
          throw invalidArgument(`turn ${i + 1} emotion '${t.emotion}' is not a label`);
        }
      });
      if (req.target > conversation.length) {
        throw invalidArgument(`target ${req.target} is beyond the ${conversation.length}-turn conversation`);
      }
      // Turns without an emotion label get the model's own ER answer first.
      await Promise.all(
        conversation.map(async (t, i) => {
          if (t.emotion) return;
          const er = await model('er', () =>
            o.engine.emotion({ ...r, text: t.text, history: conversation.slice(0, i) }, ctx),
          );
          t.emotion = er.label;
        }),
      );
      const targets = req.target
        ? [req.target]
        : conversation.flatMap((t, i) => (t.emotion?.toLowerCase() === 'neutral' ? [] : [i + 1]));
      const results = await model('ecpe', () =>
        Promise.all(targets.map((target) => o.engine.emotionCausePairs({ ...r, conversation, target }, ctx))),
      );
      const seen = new Set<string>();
      const pairs = results
        .flatMap((x) => x.pairs ?? [])
        .filter((p) => {
          const k = `${p.emotionUtt},${p.causeUtt}`;
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        });
      return create(EmotionCausePairsResponseSchema, {
        pairs: pairs.map((p) => ({
          emotionUtterance: p.emotionUtt,
          causeUtterance: p.causeUtt,
          emotion: p.emotion ?? conversation[p.emotionUtt - 1]?.emotion ?? '',
        })),
        rawText: results.map((x) => x.text).join(targets.length > 1 ? '\n' : ''),
        model: modelInfo(results[0]?.modelVersion ?? '', r.adapter),
      });
    }),

    generate: async function* (req, call): AsyncGenerator<GenerateResponse> {
      const prepared = await guarded(async (_: unknown, ctx) => ({ r: await prepare(req.input, ctx), ctx }))(
        req,
        call,
      );
      const { r, ctx } = prepared;
      const opts = req.input?.options;
      const { items, result } = callbackStream<string, Awaited<ReturnType<TaskEngine['generate']>>>((push) =>
        model('generate', () =>
          o.engine.generate(
            {
              prompt: taskPrompt(req.task, r),
              adapter: r.adapter,
              visual: r.visual,
              maxNewTokens: opts?.maxNewTokens || undefined,
              temperature: opts?.temperature,
              topP: opts?.topP || undefined,
              seed: opts?.seed,
              stop: opts?.stop,
            },
            ctx,
            push,
          ),
        ),
      );
      let index = 0;
      for await (const text of items) yield create(GenerateResponseSchema, { text, index: index++ });
      let out: Awaited<typeof result>;
      try {
        out = await result;
      } catch (e) {
        throw toGrpcError(e);
      }
      yield create(GenerateResponseSchema, {
        index,
        finishReason: out.finish === 'length' ? 'length' : 'stop',
        promptTokens: out.promptTokens,
        generatedTokens: out.generatedTokens,
        model: modelInfo(out.modelVersion, r.adapter),
      });
    },
  };
}

/** Generate's prompt: the raw text, or the text formatted as a task's instruction. */
function taskPrompt(task: Task, r: EngineRequest): string {
  switch (task) {
    case Task.MSA:
      return sentimentPrompt(r.text);
    case Task.ER:
      return emotionPrompt(r.text);
    case Task.FER:
      return facialExpressionPrompt();
    case Task.ERI:
      return emotionReasonPrompt(r.text, r.history, r.speaker);
    case Task.ECPE: {
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
