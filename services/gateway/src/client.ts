// A typed client for the gateway (service-kit's promise client, with trace propagation), used by
// eval:swift, bench:gateway and the tests. Adds the bearer token, and collects Generate's stream.

import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  type AnalyzeStreamRequestSchema,
  type AnalyzeStreamResponse,
  GatewayService,
  type GenerateRequestSchema,
  type GenerateResponse,
} from '@emoverse/proto';
import { type ClientCallOptions, createClient, type PromiseClient } from '@emoverse/service-kit';
import type * as grpc from '@grpc/grpc-js';

export interface CallOptions {
  /** Milliseconds from now. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface GatewayClientOptions {
  credentials?: grpc.ChannelCredentials;
  /** Bearer token sent in the authorization metadata. */
  token?: string;
}

type Api = PromiseClient<typeof GatewayService>;

export class GatewayClient {
  private readonly client: Api;

  constructor(
    address: string,
    private readonly options: GatewayClientOptions = {},
  ) {
    this.client = createClient(GatewayService, address, { credentials: options.credentials });
  }

  private call(o?: CallOptions): ClientCallOptions {
    const metadata = this.options.token ? { authorization: `Bearer ${this.options.token}` } : undefined;
    return { ...o, metadata };
  }

  sentiment(req: Parameters<Api['sentiment']>[0], o?: CallOptions) {
    return this.client.sentiment(req, this.call(o));
  }
  emotion(req: Parameters<Api['emotion']>[0], o?: CallOptions) {
    return this.client.emotion(req, this.call(o));
  }
  facialExpression(req: Parameters<Api['facialExpression']>[0], o?: CallOptions) {
    return this.client.facialExpression(req, this.call(o));
  }
  emotionReason(req: Parameters<Api['emotionReason']>[0], o?: CallOptions) {
    return this.client.emotionReason(req, this.call(o));
  }
  emotionCausePairs(req: Parameters<Api['emotionCausePairs']>[0], o?: CallOptions) {
    return this.client.emotionCausePairs(req, this.call(o));
  }

  analyze(req: Parameters<Api['analyze']>[0], o?: CallOptions) {
    return this.client.analyze(req, this.call(o));
  }

  /** Streams an analysis part by part; resolves with every message once the server ends the stream. */
  async analyzeStream(
    req: MessageInitShape<typeof AnalyzeStreamRequestSchema>,
    o?: CallOptions,
  ): Promise<AnalyzeStreamResponse[]> {
    const all: AnalyzeStreamResponse[] = [];
    for await (const m of this.client.analyzeStream(req, this.call(o))) all.push(m);
    return all;
  }

  /** Streams a generation; resolves with every message once the server ends the stream. */
  async generate(
    req: MessageInitShape<typeof GenerateRequestSchema>,
    onMessage?: (m: GenerateResponse) => void,
    o?: CallOptions,
  ): Promise<GenerateResponse[]> {
    const all: GenerateResponse[] = [];
    for await (const m of this.client.generate(req, this.call(o))) {
      all.push(m);
      onMessage?.(m);
    }
    return all;
  }

  /** Waits until the channel is connected (or fails after `timeoutMs`). */
  waitForReady(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.raw.waitForReady(Date.now() + timeoutMs, (e) => (e ? reject(e) : resolve())),
    );
  }

  close(): void {
    this.client.close();
  }
}
