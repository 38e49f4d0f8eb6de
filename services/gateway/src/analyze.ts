// Analyze and AnalyzeStream: proto in, serving's analyzeUtterance (media once, tasks concurrently), proto out.
// A streamed part is an Analysis with only that part set, so that merging the messages gives the whole.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  type Analysis,
  type AnalysisInput,
  AnalysisSchema,
  type AnalyzeStreamResponse,
  AnalyzeStreamResponseSchema,
  auVectorToRecord,
  type Media,
} from '@emoverse/proto';
import {
  type AnalysisPart,
  type AnalysisResult,
  analyzeUtterance,
  invalidArgument,
  ServingError,
  validateTaskInput,
} from '@emoverse/serving';
import type { GatewayHandlerOptions } from './handlers.js';
import type { VisualFeatures } from './media.js';

interface RequestContext {
  deadline?: number;
  signal: AbortSignal;
}

type AnalysisInit = MessageInitShape<typeof AnalysisSchema>;

/** The target's media: on AnalysisInput.media or on the target's turn, not both. */
function targetMedia(input: AnalysisInput): Media | undefined {
  const onTurn = input.conversation[input.target - 1]?.media;
  const given = [input.media, onTurn].filter((m) => m?.source.case);
  if (given.length > 1) throw invalidArgument('give the target media once: on input.media or on its turn');
  return given[0];
}

/** The FER part: the caption, the peak (time, frame, person), the AUs used with intensities, the image. */
function facialExpression(caption: string, f: VisualFeatures): AnalysisInit['facialExpression'] {
  const intensities = f.peak?.aus ? auVectorToRecord(f.peak.aus.intensity) : undefined;
  return {
    caption,
    peak: f.peak,
    aus: f.activeAus.map((name) => ({
      name,
      intensity: intensities?.[name as keyof typeof intensities] ?? 0,
    })),
    peakImage: f.peakImage,
  };
}

/** The fields of the Analysis one part sets. */
function partFields(p: AnalysisPart<VisualFeatures>): AnalysisInit {
  switch (p.part) {
    case 'media':
      return { facialExpression: facialExpression('', p.media) };
    case 'sentiment':
      return { sentiment: p.scores };
    case 'emotion':
      return { emotion: p.scores };
    case 'facial_expression':
      return { facialExpression: { caption: p.caption } };
    case 'reason':
      return { reason: { rationale: p.rationale, emotion: p.emotion } };
    case 'causes':
      return { causes: p.causes.map(cause) };
  }
}

function cause(c: AnalysisResult<VisualFeatures>['causes'][number]) {
  return {
    emotionUtterance: c.emotionUtt,
    causeUtterance: c.causeUtt,
    emotion: c.emotion,
    causeSpeaker: c.causeSpeaker ?? '',
    causeText: c.causeText,
  };
}

/** The whole Analysis of a finished run. */
function analysis(o: GatewayHandlerOptions, r: AnalysisResult<VisualFeatures>, adapter: string): Analysis {
  return create(AnalysisSchema, {
    target: r.target,
    sentiment: r.sentiment,
    emotion: r.emotion,
    facialExpression: r.facialExpression
      ? facialExpression(r.facialExpression.caption, r.facialExpression.media)
      : undefined,
    reason: r.reason,
    causes: r.causes.map(cause),
    model: { modelId: o.modelId, version: r.modelVersion, adapter },
    timings: r.timings,
  });
}

/** Analyze: the whole Analysis of a request, each part handed to `onPart` as it finishes. */
export async function analysisOf(
  o: GatewayHandlerOptions,
  input: AnalysisInput | undefined,
  ctx: RequestContext,
  mediaCheck: (m: Media) => void,
  onPart?: (p: AnalysisPart<VisualFeatures>) => void,
): Promise<Analysis> {
  if (!input) throw invalidArgument('input is required');
  const media = targetMedia(input);
  if (media) mediaCheck(media);
  const result = await analyzeUtterance<VisualFeatures>(
    o.engine,
    {
      conversation: input.conversation.map((t) => ({
        speaker: t.speaker || undefined,
        text: t.text,
        emotion: t.emotion || undefined,
      })),
      target: input.target,
      adapter: input.adapter || undefined,
      media: media ? () => features(o, media, ctx) : undefined,
    },
    o.limits,
    { ...ctx, onPart: onPart as (p: AnalysisPart<{ visual: Float32Array[] }>) => void },
  );
  return analysis(o, result, input.adapter);
}

function features(o: GatewayHandlerOptions, media: Media, ctx: RequestContext): Promise<VisualFeatures> {
  if (!o.media) throw new ServingError('UNAVAILABLE', 'media processing (au-scorer) is not configured');
  return o.media.features(media, { ...ctx, peakImage: true });
}

/** AnalyzeStream: each part as it finishes, then "done" with the model and the timings. */
export async function analyzeParts(
  o: GatewayHandlerOptions,
  input: AnalysisInput | undefined,
  ctx: RequestContext,
  mediaCheck: (m: Media) => void,
  push: (m: AnalyzeStreamResponse) => void,
): Promise<void> {
  const whole = await analysisOf(o, input, ctx, mediaCheck, (p) =>
    push(create(AnalyzeStreamResponseSchema, { part: p.part, analysis: partFields(p) })),
  );
  push(
    create(AnalyzeStreamResponseSchema, {
      part: 'done',
      analysis: { target: whole.target, model: whole.model, timings: whole.timings },
    }),
  );
}

/** The media check every analysis makes before anything runs: format and size, as the task RPCs do. */
export function mediaChecker(
  o: GatewayHandlerOptions,
  toInput: (m: Media) => Parameters<typeof validateTaskInput>[0]['media'],
) {
  return (m: Media) => {
    validateTaskInput({ text: '-', media: toInput(m) }, o.limits);
  };
}
