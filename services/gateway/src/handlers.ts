// The GatewayService RPCs: proto in, serving engine, proto out. Each request is checked
// (auth, decoding, inputs), its media turned into visual features through au-scorer, then
// answered by the engine; every failure becomes a gRPC status with a clear message.

import { timingSafeEqual } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import {
  type AnalyzeRequest,
  type AnalyzeResponse,
  AnalyzeResponseSchema,
  type AnalyzeStreamRequest,
  type AnalyzeStreamResponse,
  type ConversationTurn,
  type EmotionCausePairsRequest,
  type EmotionCausePairsResponse,
  EmotionCausePairsResponseSchema,
  type EmotionReasonRequest,
  type EmotionReasonResponse,
  EmotionReasonResponseSchema,
  type EmotionRequest,
  type EmotionResponse,
  EmotionResponseSchema,
  type FacialExpressionRequest,
  type FacialExpressionResponse,
  FacialExpressionResponseSchema,
  type GatewayService,
  type GenerateRequest,
  type GenerateResponse,
  GenerateResponseSchema,
  type Media,
  ModelInfoSchema,
  type TaskInput as ProtoTaskInput,
  type SentimentRequest,
  type SentimentResponse,
  SentimentResponseSchema,
  Task,
} from '@emoverse/proto';
import { type CallContext, callbackStream, type ServiceImpl } from '@emoverse/service-kit';
import {
  type EngineRequest,
  emotionCausePairsFlow,
  emotionReasonFlow,
  facialExpressionFlow,
  type InputLimits,
  invalidArgument,
  type MediaInput,
  ServingError,
  type Task as ServingTask,
  type TaskEngine,
  type TaskResult,
  type TaskSpan,
  type Turn,
  taskPrompt,
  validateTaskInput,
} from '@emoverse/serving';
import { withSpan } from '@emoverse/telemetry';
import * as grpc from '@grpc/grpc-js';
import { analysisOf, analyzeParts, mediaChecker } from './analyze.js';
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

type Prepared = EngineRequest & { features?: VisualFeatures };
type Handler<Req, Res> = (o: GatewayHandlerOptions, req: Req, ctx: RequestContext) => Promise<Res>;

const model: TaskSpan = (task, fn) => withSpan(`model.${task}`, fn);

/** Checks the bearer token in the `authorization` metadata (timing-safe); no token configured, no check. */
function authorizer(token: string | undefined): (md: grpc.Metadata) => void {
  const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
  return (md) => {
    if (!expected) return;
    const got = Buffer.from(String(md.get('authorization')[0] ?? ''));
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw new Unauthenticated('a valid bearer token is required in the authorization metadata');
    }
  };
}

/** Auth, then the handler; every failure leaves as a gRPC status with a clear message. */
function guarded<Req, Res>(
  o: GatewayHandlerOptions,
  authorize: (md: grpc.Metadata) => void,
  fn: Handler<Req, Res>,
) {
  return async (req: Req, call: CallContext): Promise<Res> => {
    try {
      authorize(call.metadata);
      return await fn(o, req, { signal: call.signal, deadline: call.deadline?.getTime() });
    } catch (e) {
      if (e instanceof Unauthenticated) throw toGrpcError(e, grpc.status.UNAUTHENTICATED);
      throw toGrpcError(e);
    }
  };
}

/** Validates a TaskInput and fetches its visual features. */
async function prepare(
  o: GatewayHandlerOptions,
  input: ProtoTaskInput | undefined,
  ctx: RequestContext,
  requireText = true,
): Promise<Prepared> {
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

function modelInfo(o: GatewayHandlerOptions, version: string, adapter: string | undefined) {
  return create(ModelInfoSchema, { modelId: o.modelId, version, adapter: adapter ?? '' });
}

function probabilities(r: TaskResult) {
  return (r.probabilities ?? []).map((p) => ({ label: p.label, probability: p.probability }));
}

/** A classification RPC's response fields (Sentiment and Emotion share them). */
function classification(o: GatewayHandlerOptions, res: TaskResult, adapter: string | undefined) {
  return {
    label: res.label,
    probabilities: probabilities(res),
    rawText: res.text,
    model: modelInfo(o, res.modelVersion, adapter),
  };
}

const sentiment: Handler<SentimentRequest, SentimentResponse> = async (o, req, ctx) => {
  const r = await prepare(o, req.input, ctx);
  const res = await model('msa', () => o.engine.sentiment(r, ctx));
  return create(SentimentResponseSchema, classification(o, res, r.adapter));
};

const emotion: Handler<EmotionRequest, EmotionResponse> = async (o, req, ctx) => {
  const r = await prepare(o, req.input, ctx);
  const res = await model('er', () => o.engine.emotion(r, ctx));
  return create(EmotionResponseSchema, classification(o, res, r.adapter));
};

const facialExpression: Handler<FacialExpressionRequest, FacialExpressionResponse> = async (o, req, ctx) => {
  // The face is the input here: text is optional when media is given.
  const r = await prepare(o, req.input, ctx, !req.input?.media?.source.case);
  const { caption, emotion } = await facialExpressionFlow(o.engine, r, { ...ctx, span: model });
  return create(FacialExpressionResponseSchema, {
    caption: caption.text,
    label: emotion.label,
    probabilities: probabilities(emotion),
    peak: r.features?.peak,
    activeAus: r.features?.activeAus ?? [],
    rawText: caption.text,
    model: modelInfo(o, caption.modelVersion, r.adapter),
  });
};

const emotionReason: Handler<EmotionReasonRequest, EmotionReasonResponse> = async (o, req, ctx) => {
  const r = await prepare(o, req.input, ctx);
  const { result, emotion } = await emotionReasonFlow(o.engine, r, req.emotion, { ...ctx, span: model });
  return create(EmotionReasonResponseSchema, {
    rationale: result.text,
    emotion,
    rawText: result.text,
    model: modelInfo(o, result.modelVersion, r.adapter),
  });
};

const emotionCausePairs: Handler<EmotionCausePairsRequest, EmotionCausePairsResponse> = async (
  o,
  req,
  ctx,
) => {
  const r = await prepare(o, req.input, ctx, false);
  const out = await emotionCausePairsFlow(o.engine, r, req.target, o.limits, { ...ctx, span: model });
  return create(EmotionCausePairsResponseSchema, {
    pairs: out.pairs.map((p) => ({
      emotionUtterance: p.emotionUtt,
      causeUtterance: p.causeUtt,
      emotion: p.emotion,
    })),
    rawText: out.rawText,
    model: modelInfo(o, out.modelVersion, r.adapter),
  });
};

/** Generate: the task's prompt (or the raw text), streamed piece by piece, then a summary message. */
async function* generate(
  o: GatewayHandlerOptions,
  authorize: (md: grpc.Metadata) => void,
  req: GenerateRequest,
  call: CallContext,
): AsyncGenerator<GenerateResponse> {
  const { r, ctx } = await guarded(o, authorize, async (o, _: unknown, ctx) => ({
    r: await prepare(o, req.input, ctx),
    ctx,
  }))(req, call);
  const opts = req.input?.options;
  const { items, result } = callbackStream<string, Awaited<ReturnType<TaskEngine['generate']>>>((push) =>
    model('generate', () =>
      o.engine.generate(
        {
          prompt: taskPrompt(SERVING_TASK[req.task], r),
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
    model: modelInfo(o, out.modelVersion, r.adapter),
  });
}

const analyze: Handler<AnalyzeRequest, AnalyzeResponse> = async (o, req, ctx) => {
  const check = mediaChecker(o, (m) => mediaInput(m, o.allowMediaPaths ?? false));
  return create(AnalyzeResponseSchema, { analysis: await analysisOf(o, req.input, ctx, check) });
};

/** AnalyzeStream: auth first, then each part of the analysis as it finishes. */
async function* analyzeStream(
  o: GatewayHandlerOptions,
  authorize: (md: grpc.Metadata) => void,
  req: AnalyzeStreamRequest,
  call: CallContext,
): AsyncGenerator<AnalyzeStreamResponse> {
  const ctx = await guarded(o, authorize, async (_o, _req: unknown, ctx) => ctx)(req, call);
  const check = mediaChecker(o, (m) => mediaInput(m, o.allowMediaPaths ?? false));
  const { items, result } = callbackStream<AnalyzeStreamResponse, void>((push) =>
    analyzeParts(o, req.input, ctx, check, push),
  );
  yield* items;
  try {
    await result;
  } catch (e) {
    throw toGrpcError(e);
  }
}

/** The serving task a proto Task names (none for UNSPECIFIED: Generate then takes the raw text). */
const SERVING_TASK: Partial<Record<Task, ServingTask>> = {
  [Task.MSA]: 'msa',
  [Task.ER]: 'er',
  [Task.FER]: 'fer',
  [Task.ERI]: 'eri',
  [Task.ECPE]: 'ecpe',
};

/** The GatewayService RPCs, for service-kit's ctx.addService (which adds tracing, latency metrics and status mapping). */
export function gatewayImpl(o: GatewayHandlerOptions): ServiceImpl<typeof GatewayService> {
  const authorize = authorizer(o.token);
  return {
    sentiment: guarded(o, authorize, sentiment),
    emotion: guarded(o, authorize, emotion),
    facialExpression: guarded(o, authorize, facialExpression),
    emotionReason: guarded(o, authorize, emotionReason),
    emotionCausePairs: guarded(o, authorize, emotionCausePairs),
    generate: (req, call) => generate(o, authorize, req, call),
    analyze: guarded(o, authorize, analyze),
    analyzeStream: (req, call) => analyzeStream(o, authorize, req, call),
  };
}
