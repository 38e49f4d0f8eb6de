// Media → visual features. Video, image or frames go to au-scorer (which runs frame-extraction and
// face tracking itself, or takes frames already extracted), and come back as the peak frame of the
// most expressive person (argmax S_f, eq. 2) with its 17 AU intensities, and every frame's AUs,
// expression probabilities and face descriptor. serving's faceFeatureFrames turns those into the
// per-frame face features that the model takes as its visual tokens T_v, as training does.

import { auFrame } from '@emoverse/facs';
import {
  type AuScored,
  AuScorerService,
  auVectorToRecord,
  type Media,
  type PeakImage,
  type PersonPeak,
  type ScoreResponse,
} from '@emoverse/proto';
import { createClient, type PromiseClient } from '@emoverse/service-kit';
import { faceFeatureFrames, invalidArgument, type ScoredClip, ServingError } from '@emoverse/serving';
import * as grpc from '@grpc/grpc-js';

export interface VisualFeatures {
  /**
   * One feature vector per usable frame of the most expressive person, in models' face-feature
   * layout (17 AUs scaled to 0-1, 7 expression probabilities, 128-d descriptor): serving's
   * faceFeatureFrames, the same function training uses.
   */
  visual: Float32Array[];
  peak?: PersonPeak;
  /** AU_frame of the peak: the AUs at or above intensity 1, strongest first. */
  activeAus: string[];
  /** The peak frame as JPEG with the face box and landmarks, when asked for. */
  peakImage?: PeakImage;
}

export interface FeatureOptions {
  deadline?: number;
  signal?: AbortSignal;
  /** Also fetch the peak frame's image (Analyze shows it). */
  peakImage?: boolean;
}

export interface MediaPipeline {
  features(media: Media, options: FeatureOptions): Promise<VisualFeatures>;
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

/** au-scorer's span result as serving's ScoredClip (wire → domain; no logic here). */
function scoredClip(result: AuScored): ScoredClip {
  return {
    peak: result.peak ? { personId: result.peak.trackId } : null,
    frames: result.faces.flatMap((f) =>
      f.aus
        ? [
            {
              index: f.frameIndex,
              personId: f.trackId,
              aus: auVectorToRecord(f.aus.intensity),
              excluded: f.usable ? undefined : f.excludedReason || 'unusable',
              expressions: f.expressions,
              descriptor: f.descriptor,
            },
          ]
        : [],
    ),
  };
}

export function featuresFromScore(res: ScoreResponse): VisualFeatures {
  const at = res.results.findIndex((r) => r.hasFace && r.peak);
  const result = res.results[Math.max(at, 0)];
  if (!result?.hasFace || !result.peak?.aus) {
    const why = result?.error?.message ? ` (${result.error.message})` : '';
    throw invalidArgument(`no face was found in the media${why}`);
  }
  let visual: Float32Array[];
  try {
    visual = faceFeatureFrames(scoredClip(result));
  } catch (e) {
    throw new ServingError(
      'UNAVAILABLE',
      `media: au-scorer's answer lacks face features: ${(e as Error).message}`,
    );
  }
  const peakImage = res.peakImages[at];
  return {
    visual,
    peak: result.peak,
    activeAus: auFrame(auVectorToRecord(result.peak.aus.intensity)),
    ...(peakImage?.jpeg.length ? { peakImage } : {}),
  };
}

/** The pipeline over au-scorer's gRPC API (the client span carries the trace to au-scorer). */
export class AuScorerPipeline implements MediaPipeline {
  private readonly client: PromiseClient<typeof AuScorerService>;

  constructor(address: string, credentials?: grpc.ChannelCredentials) {
    this.client = createClient(AuScorerService, address, { credentials });
  }

  async features(media: Media, options: FeatureOptions): Promise<VisualFeatures> {
    let res: ScoreResponse;
    try {
      res = await this.client.score(
        {
          input: { case: 'media', value: media },
          includeFrames: true,
          includeFeatures: true,
          includePeakImage: options.peakImage ?? false,
        },
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
