// A typed client for the gateway, used by eval:swift, bench:gateway and the tests.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  EmotionCausePairsRequestSchema,
  type EmotionCausePairsResponse,
  EmotionReasonRequestSchema,
  type EmotionReasonResponse,
  EmotionRequestSchema,
  type EmotionResponse,
  FacialExpressionRequestSchema,
  type FacialExpressionResponse,
  GatewayService,
  GenerateRequestSchema,
  type GenerateResponse,
  SentimentRequestSchema,
  type SentimentResponse,
} from '@emoverse/proto';
import * as grpc from '@grpc/grpc-js';
import { clientConstructor } from './grpc-service.js';

export interface CallOptions {
  /** Milliseconds from now. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface GatewayClientOptions {
  credentials?: grpc.ChannelCredentials;
  /** Bearer token sent in the authorization metadata. */
  token?: string;
  channelOptions?: grpc.ChannelOptions;
}

type Init<S> = S extends import('@bufbuild/protobuf').DescMessage ? MessageInitShape<S> : never;

export class GatewayClient {
  private readonly client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  private readonly token?: string;

  constructor(address: string, options: GatewayClientOptions = {}) {
    const Ctor = clientConstructor(GatewayService);
    this.client = new Ctor(
      address,
      options.credentials ?? grpc.credentials.createInsecure(),
      options.channelOptions,
    ) as unknown as GatewayClient['client'];
    this.token = options.token;
  }

  sentiment(req: Init<typeof SentimentRequestSchema>, o?: CallOptions): Promise<SentimentResponse> {
    return this.unary('sentiment', create(SentimentRequestSchema, req), o);
  }
  emotion(req: Init<typeof EmotionRequestSchema>, o?: CallOptions): Promise<EmotionResponse> {
    return this.unary('emotion', create(EmotionRequestSchema, req), o);
  }
  facialExpression(
    req: Init<typeof FacialExpressionRequestSchema>,
    o?: CallOptions,
  ): Promise<FacialExpressionResponse> {
    return this.unary('facialExpression', create(FacialExpressionRequestSchema, req), o);
  }
  emotionReason(
    req: Init<typeof EmotionReasonRequestSchema>,
    o?: CallOptions,
  ): Promise<EmotionReasonResponse> {
    return this.unary('emotionReason', create(EmotionReasonRequestSchema, req), o);
  }
  emotionCausePairs(
    req: Init<typeof EmotionCausePairsRequestSchema>,
    o?: CallOptions,
  ): Promise<EmotionCausePairsResponse> {
    return this.unary('emotionCausePairs', create(EmotionCausePairsRequestSchema, req), o);
  }

  /** Streams a generation; resolves with every message once the server ends the stream. */
  generate(
    req: Init<typeof GenerateRequestSchema>,
    onMessage?: (m: GenerateResponse) => void,
    o?: CallOptions,
  ): Promise<GenerateResponse[]> {
    return new Promise((resolve, reject) => {
      const call = this.client.generate(
        create(GenerateRequestSchema, req),
        this.metadata(),
        this.callOptions(o),
      ) as grpc.ClientReadableStream<GenerateResponse>;
      o?.signal?.addEventListener('abort', () => call.cancel(), { once: true });
      const all: GenerateResponse[] = [];
      call.on('data', (m: GenerateResponse) => {
        all.push(m);
        onMessage?.(m);
      });
      call.on('error', reject);
      call.on('end', () => resolve(all));
    });
  }

  /** Waits until the channel is connected (or fails after `timeoutMs`). */
  waitForReady(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.waitForReady(Date.now() + timeoutMs, (e) => (e ? reject(e) : resolve())),
    );
  }

  close(): void {
    this.client.close();
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    return md;
  }

  private callOptions(o?: CallOptions): grpc.CallOptions {
    return o?.timeoutMs ? { deadline: Date.now() + o.timeoutMs } : {};
  }

  private unary<O>(method: string, req: unknown, o?: CallOptions): Promise<O> {
    return new Promise((resolve, reject) => {
      const call = this.client[method](
        req,
        this.metadata(),
        this.callOptions(o),
        (e: grpc.ServiceError | null, res: O) => (e ? reject(e) : resolve(res)),
      ) as grpc.ClientUnaryCall;
      o?.signal?.addEventListener('abort', () => call.cancel(), { once: true });
    });
  }
}
