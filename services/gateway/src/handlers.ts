// The GatewayService RPCs: proto in, serving engine, proto out. Each request is checked
// (auth, decoding, inputs), its media turned into visual features through au-scorer, then
// answered by the engine; every failure becomes a gRPC status with a clear message.

import { timingSafeEqual } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import {
  type ConversationTurn,
  type EmotionCausePairsRequest,
  EmotionCausePairsResponseSchema,
  type EmotionReasonRequest,
  EmotionReasonResponseSchema,
  type EmotionRequest,
  EmotionResponseSchema,
  type FacialExpressionRequest,
  FacialExpressionResponseSchema,
  type GenerateRequest,
  GenerateResponseSchema,
  type Media,
  ModelInfoSchema,
  type TaskInput as ProtoTaskInput,
  type SentimentRequest,
  SentimentResponseSchema,
  Task,
} from '@emoverse/proto';
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
import { extractGrpcMetadata, SpanKind, withSpan } from '@emoverse/telemetry';
import * as grpc from '@grpc/grpc-js';
import { decodeFailure } from './grpc-service.js';
import type { MediaPipeline, VisualFeatures } from './media.js';
import type { GatewayMetrics } from './metrics.js';
import { toStatus } from './status.js';

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
  metrics?: GatewayMetrics;
}

interface RequestContext {
  deadline?: number;
  signal: AbortSignal;
}

class Unauthenticated extends Error {}

function context(
  call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
): RequestContext {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return { signal: ac.signal, deadline: Number.isFinite(ms) ? ms : undefined };
}

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

export function gatewayHandlers(o: GatewayHandlerOptions): grpc.UntypedServiceImplementation {
  const expected = o.token ? Buffer.from(`Bearer ${o.token}`) : undefined;

  function authorize(md: grpc.Metadata): void {
    if (!expected) return;
    const got = Buffer.from(String(md.get('authorization')[0] ?? ''));
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw new Unauthenticated('a valid bearer token is required in the authorization metadata');
    }
  }

  function statusOf(e: unknown): Partial<grpc.StatusObject> {
    if (e instanceof Unauthenticated) return { code: grpc.status.UNAUTHENTICATED, details: e.message };
    return toStatus(e);
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

  /** Wraps a unary handler with auth, decoding checks, tracing, metrics and error mapping. */
  function unary<Req, Res>(
    method: string,
    fn: (req: Req, ctx: RequestContext) => Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const started = performance.now();
      const finish = (code: grpc.status) =>
        o.metrics?.requestSeconds.observe(
          { method, code: grpc.status[code] },
          (performance.now() - started) / 1000,
        );
      void withSpan(
        `gateway.${method}`,
        async () => {
          authorize(call.metadata);
          const undecodable = decodeFailure(call.request);
          if (undecodable) throw invalidArgument(undecodable);
          return fn(call.request, context(call));
        },
        { kind: SpanKind.SERVER, parent: extractGrpcMetadata(call.metadata) },
      ).then(
        (res) => {
          finish(grpc.status.OK);
          callback(null, res);
        },
        (e: unknown) => {
          const status = statusOf(e);
          finish(status.code ?? grpc.status.UNKNOWN);
          callback(status as grpc.ServiceError);
        },
      );
    };
  }

  const model = <T>(task: string, fn: () => Promise<T>) => withSpan(`model.${task}`, fn);

  return {
    sentiment: unary<SentimentRequest, unknown>('Sentiment', async (req, ctx) => {
      const r = await prepare(req.input, ctx);
      const res = await model('msa', () => o.engine.sentiment(r, ctx));
      return create(SentimentResponseSchema, {
        label: res.label,
        probabilities: probabilities(res),
        rawText: res.text,
        model: modelInfo(res.modelVersion, r.adapter),
      });
    }),

    emotion: unary<EmotionRequest, unknown>('Emotion', async (req, ctx) => {
      const r = await prepare(req.input, ctx);
      const res = await model('er', () => o.engine.emotion(r, ctx));
      return create(EmotionResponseSchema, {
        label: res.label,
        probabilities: probabilities(res),
        rawText: res.text,
        model: modelInfo(res.modelVersion, r.adapter),
      });
    }),

    facialExpression: unary<FacialExpressionRequest, unknown>('FacialExpression', async (req, ctx) => {
      const r = await prepare(req.input, ctx);
      // The caption is generated; the emotion it is read as is scored alongside, in the same batch round.
      const [caption, emotion] = await model('fer', () =>
        Promise.all([o.engine.facialExpression(r, ctx), o.engine.emotion(r, ctx)]),
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

    emotionReason: unary<EmotionReasonRequest, unknown>('EmotionReason', async (req, ctx) => {
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

    emotionCausePairs: unary<EmotionCausePairsRequest, unknown>('EmotionCausePairs', async (req, ctx) => {
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
        if (t.emotion && !/^[A-Za-z]+$/.test(t.emotion))
          throw invalidArgument(`turn ${i + 1} emotion '${t.emotion}' is not a label`);
      });
      if (req.target > conversation.length) {
        throw invalidArgument(`target ${req.target} is beyond the ${conversation.length}-turn conversation`);
      }
      // Turns without an emotion label get the model's own ER answer first.
      await Promise.all(
        conversation.map(async (t, i) => {
          if (t.emotion) return;
          const at = conversation.slice(0, i);
          const er = await model('er', () => o.engine.emotion({ ...r, text: t.text, history: at }, ctx));
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

    generate: (call: grpc.ServerWritableStream<GenerateRequest, unknown>) => {
      const started = performance.now();
      const finish = (code: grpc.status) =>
        o.metrics?.requestSeconds.observe(
          { method: 'Generate', code: grpc.status[code] },
          (performance.now() - started) / 1000,
        );
      void withSpan(
        'gateway.Generate',
        async () => {
          authorize(call.metadata);
          const req = call.request;
          const undecodable = decodeFailure(req);
          if (undecodable) throw invalidArgument(undecodable);
          const ctx = context(call);
          const r = await prepare(req.input, ctx);
          const opts = req.input?.options;
          let index = 0;
          const out = await model('generate', () =>
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
              (piece) => {
                if (!call.cancelled)
                  call.write(create(GenerateResponseSchema, { text: piece, index: index++ }));
              },
            ),
          );
          call.write(
            create(GenerateResponseSchema, {
              index,
              finishReason: out.finish === 'length' ? 'length' : 'stop',
              promptTokens: out.promptTokens,
              generatedTokens: out.generatedTokens,
              model: modelInfo(out.modelVersion, r.adapter),
            }),
          );
          call.end();
        },
        { kind: SpanKind.SERVER, parent: extractGrpcMetadata(call.metadata) },
      ).then(
        () => finish(grpc.status.OK),
        (e: unknown) => {
          const status = statusOf(e);
          finish(status.code ?? grpc.status.UNKNOWN);
          if (!call.cancelled) call.emit('error', status);
        },
      );
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
