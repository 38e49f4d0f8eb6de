// Promise-based gRPC clients of protobuf-es service descriptors, with trace propagation in the metadata.
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { context, injectGrpcMetadata, SpanKind, SpanStatusCode, trace } from '@emoverse/telemetry';
import * as grpc from '@grpc/grpc-js';
import { grpcServiceDefinition, type InInit, type Out } from './grpc-adapter.js';

export interface ClientCallOptions {
  /** Deadline in milliseconds from now. */
  timeoutMs?: number;
  metadata?: grpc.Metadata | Record<string, string>;
  /** Cancels the call when aborted. */
  signal?: AbortSignal;
}

type Kind<M> = M extends { methodKind: infer K } ? K : never;

export type ClientMethod<M extends DescMethod> =
  Kind<M> extends 'unary'
    ? (request: InInit<M>, options?: ClientCallOptions) => Promise<Out<M>>
    : Kind<M> extends 'server_streaming'
      ? (request: InInit<M>, options?: ClientCallOptions) => AsyncIterable<Out<M>>
      : Kind<M> extends 'client_streaming'
        ? (
            requests: AsyncIterable<InInit<M>> | Iterable<InInit<M>>,
            options?: ClientCallOptions,
          ) => Promise<Out<M>>
        : (
            requests: AsyncIterable<InInit<M>> | Iterable<InInit<M>>,
            options?: ClientCallOptions,
          ) => AsyncIterable<Out<M>>;

/** Promise / async-iterable client of a service, methods by localName (e.g. `client.emotion(...)`). */
export type PromiseClient<S extends DescService> = {
  [K in keyof S['method']]: S['method'][K] extends DescMethod ? ClientMethod<S['method'][K]> : never;
} & { close(): void; readonly raw: grpc.Client };

export interface ClientOptions {
  /** Default insecure (loopback / service mesh). */
  credentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
  /** Largest message received (default 64 MiB). */
  maxMessageBytes?: number;
}

/**
 * Starts a CLIENT span per call and sends its context in the metadata (traceparent), so the
 * server's span is its child: one call is one trace across services.
 */
export const traceClientInterceptor: grpc.Interceptor = (options, nextCall) => {
  const path = options.method_definition.path;
  const parent = context.active();
  const span = trace
    .getTracer('emoverse.grpc')
    .startSpan(
      `grpc.client ${path}`,
      { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc' } },
      parent,
    );
  const ctx = trace.setSpan(parent, span);
  const requester = new grpc.RequesterBuilder()
    .withStart((metadata, _listener, next) => {
      injectGrpcMetadata(metadata, ctx);
      const statusListener = new grpc.ListenerBuilder()
        .withOnReceiveStatus((status, nextStatus) => {
          span.setAttribute('rpc.grpc.status_code', status.code);
          if (status.code !== grpc.status.OK)
            span.setStatus({ code: SpanStatusCode.ERROR, message: status.details });
          span.end();
          nextStatus(status);
        })
        .build();
      next(metadata, statusListener);
    })
    .build();
  return new grpc.InterceptingCall(nextCall(options), requester);
};

function toMetadata(m: ClientCallOptions['metadata']): grpc.Metadata {
  if (m instanceof grpc.Metadata) return m;
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(m ?? {})) md.set(k, v);
  return md;
}

function callOptions(o: ClientCallOptions | undefined): grpc.CallOptions {
  return o?.timeoutMs !== undefined ? { deadline: Date.now() + o.timeoutMs } : {};
}

async function pump(
  call: grpc.ClientWritableStream<unknown>,
  requests: AsyncIterable<unknown> | Iterable<unknown>,
): Promise<void> {
  try {
    for await (const r of requests) {
      if (!call.write(r)) await new Promise((res) => call.once('drain', res));
    }
    call.end();
  } catch (err) {
    (call as unknown as grpc.ClientDuplexStream<unknown, unknown>).cancel?.();
    throw err;
  }
}

async function* readAll<T>(call: grpc.ClientReadableStream<T>, signal?: AbortSignal): AsyncGenerator<T> {
  const onAbort = () => call.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  let finished = false;
  try {
    for await (const m of call) yield m as T;
    finished = true;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // The consumer stopped early (break / return): tell the server.
    if (!finished) call.cancel();
  }
}

/** A promise-based client of a protobuf-es service descriptor, with trace propagation. */
export function createClient<S extends DescService>(
  service: S,
  address: string,
  options: ClientOptions = {},
): PromiseClient<S> {
  const Ctor = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.typeName);
  const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const raw = new Ctor(address, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': max,
    'grpc.max_send_message_length': max,
    ...options.channelOptions,
    interceptors: [traceClientInterceptor],
  }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  const client: Record<string, unknown> = { close: () => raw.close(), raw };
  for (const method of service.methods) {
    const invoke = raw[method.name].bind(raw);
    switch (method.methodKind) {
      case 'unary':
        client[method.localName] = (req: unknown, o?: ClientCallOptions) =>
          new Promise((resolve, reject) => {
            const call = invoke(
              req,
              toMetadata(o?.metadata),
              callOptions(o),
              (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)),
            ) as grpc.ClientUnaryCall;
            o?.signal?.addEventListener('abort', () => call.cancel(), { once: true });
          });
        break;
      case 'server_streaming':
        client[method.localName] = (req: unknown, o?: ClientCallOptions) =>
          readAll(
            invoke(req, toMetadata(o?.metadata), callOptions(o)) as grpc.ClientReadableStream<unknown>,
            o?.signal,
          );
        break;
      case 'client_streaming':
        client[method.localName] = (reqs: AsyncIterable<unknown>, o?: ClientCallOptions) =>
          new Promise((resolve, reject) => {
            const call = invoke(
              toMetadata(o?.metadata),
              callOptions(o),
              (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)),
            ) as grpc.ClientWritableStream<unknown>;
            o?.signal?.addEventListener('abort', () => call.cancel(), { once: true });
            pump(call, reqs).catch(reject);
          });
        break;
      default:
        client[method.localName] = (reqs: AsyncIterable<unknown>, o?: ClientCallOptions) => {
          const call = invoke(toMetadata(o?.metadata), callOptions(o)) as grpc.ClientDuplexStream<
            unknown,
            unknown
          >;
          pump(call, reqs).catch(() => call.cancel());
          return readAll(call, o?.signal);
        };
    }
  }
  return client as PromiseClient<S>;
}
