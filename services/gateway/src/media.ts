// Media → visual features. Video, image or frames go to au-scorer (which runs frame-extraction and
// face tracking itself, or takes frames already extracted), and come back as the peak frame of the
// most expressive person (argmax S_f, eq. 2) with its 17 AU intensities. Those intensities are the
// visual features that W_v projects into the LLM as the visual tokens T_v of emoverse-nano.

import { auFrame } from '@emoverse/facs';
import { FACE_FEATURES, faceFrameFeatures } from '@emoverse/models';
import {
  AuScorerService,
  auVectorToRecord,
  type Media,
  type PersonPeak,
  type ScoreResponse,
} from '@emoverse/proto';
import { createClient, type PromiseClient } from '@emoverse/service-kit';
import { invalidArgument, ServingError } from '@emoverse/serving';
import * as grpc from '@grpc/grpc-js';

export interface VisualFeatures {
  /**
   * One feature vector per frame of the most expressive person, in models' face-feature layout
   * (faceFrameFeatures: 17 AUs scaled to 0-1, 7 expression probabilities, 128-d descriptor). The
   * au-scorer reports AUs only, so the expression and descriptor parts are zero.
   */
  visual: Float32Array[];
  peak?: PersonPeak;
  /** AU_frame of the peak: the AUs at or above intensity 1, strongest first. */
  activeAus: string[];
}

export interface MediaPipeline {
  features(media: Media, options: { deadline?: number; signal?: AbortSignal }): Promise<VisualFeatures>;
  close(): void;
}

/** Maps an au-scorer failure onto what the gateway's client should see. */
function fromUpstream(e: grpc.ServiceError): ServingError {
  if (typeof e?.code !== 'number') return new ServingError('UNAVAILABLE', `media: ${(e as Error).message}`);
  if (e.code === grpc.status.INVALID_ARGUMENT || e.code === grpc.status.NOT_FOUND) {
    return new ServingError(
      e.code === grpc.status.NOT_FOUND ? 'NOT_FOUND' : 'INVALID_ARGUMENT',
      `media: ${e.details}`,
    );
  }
  if (e.code === grpc.status.DEADLINE_EXCEEDED)
    return new ServingError('DEADLINE_EXCEEDED', 'media: au-scorer timed out');
  if (e.code === grpc.status.CANCELLED) return new ServingError('CANCELLED', 'the request was cancelled');
  return new ServingError('UNAVAILABLE', `media: au-scorer failed: ${e.details}`);
}

const NO_EXPRESSIONS = new Float32Array(FACE_FEATURES.expressions);
const NO_DESCRIPTOR = new Float32Array(FACE_FEATURES.descriptor);

export function featuresFromScore(res: ScoreResponse): VisualFeatures {
  const result = res.results.find((r) => r.hasFace && r.peak) ?? res.results[0];
  if (!result?.hasFace || !result.peak?.aus) {
    const why = result?.error?.message ? ` (${result.error.message})` : '';
    throw invalidArgument(`no face was found in the media${why}`);
  }
  const peak = result.peak;
  const track = result.faces.filter((f) => f.trackId === peak.trackId && f.usable && f.aus);
  const frames = (track.length ? track.map((f) => f.aus!.intensity) : [peak.aus!.intensity]).map((aus) =>
    faceFrameFeatures({ aus, expressions: NO_EXPRESSIONS, descriptor: NO_DESCRIPTOR }),
  );
  const intensities = peak.aus!.intensity;
  return {
    visual: frames,
    peak: result.peak,
    activeAus: auFrame(auVectorToRecord(intensities)),
  };
}

/** The pipeline over au-scorer's gRPC API (the client span carries the trace to au-scorer). */
export class AuScorerPipeline implements MediaPipeline {
  private readonly client: PromiseClient<typeof AuScorerService>;

  constructor(address: string, credentials?: grpc.ChannelCredentials) {
    this.client = createClient(AuScorerService, address, { credentials });
  }

  async features(
    media: Media,
    options: { deadline?: number; signal?: AbortSignal },
  ): Promise<VisualFeatures> {
    let res: ScoreResponse;
    try {
      res = await this.client.score(
        { input: { case: 'media', value: media }, includeFrames: true },
        {
          timeoutMs: options.deadline ? Math.max(1, options.deadline - Date.now()) : undefined,
          signal: options.signal,
        },
      );
    } catch (e) {
      throw fromUpstream(e as grpc.ServiceError);
    }
    return featuresFromScore(res);
  }

  close(): void {
    this.client.close();
  }
}
