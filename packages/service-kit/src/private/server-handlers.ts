// Handlers as grpc-js handlers: a SERVER span per call, thrown errors mapped to gRPC statuses, latency.
import { once } from 'node:events';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { extractGrpcMetadata, type Histogram, SpanKind, withSpan } from '@emoverse/telemetry';
import * as grpc from '@grpc/grpc-js';
import { GrpcError } from './errors.js';
import { type In, type OutInit, UndecodableRequest } from './grpc-adapter.js';

/** What a handler gets besides the request. */
export interface CallContext {
  /** Full method path, e.g. /emoverse.v1.GatewayService/Emotion. */
  method: string;
  metadata: grpc.Metadata;
  /** Aborted when the client cancels or the deadline passes: stop work and free resources. */
  signal: AbortSignal;
  deadline?: Date;
  peer: string;
}

type Kind<M> = M extends { methodKind: infer K } ? K : never;

/** The handler of one method, by its kind: unary -> Promise, server streaming -> async iterable, ... */
export type MethodImpl<M extends DescMethod> =
  Kind<M> extends 'unary'
    ? (request: In<M>, ctx: CallContext) => Promise<OutInit<M>> | OutInit<M>
    : Kind<M> extends 'server_streaming'
      ? (request: In<M>, ctx: CallContext) => AsyncIterable<OutInit<M>>
      : Kind<M> extends 'client_streaming'
        ? (requests: AsyncIterable<In<M>>, ctx: CallContext) => Promise<OutInit<M>>
        : (requests: AsyncIterable<In<M>>, ctx: CallContext) => AsyncIterable<OutInit<M>>;

/** Handlers of a service keyed by method localName (e.g. `facialExpression`, `generate`). */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S['method']]: S['method'][K] extends DescMethod ? MethodImpl<S['method'][K]> : never;
};

/** A gRPC status for anything a handler throws: GrpcError as is, a downstream gRPC error's code kept, else INTERNAL. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof GrpcError) return { code: err.code, details: err.message, metadata: err.metadata };
  const e = err as { code?: unknown; details?: unknown; message?: string };
  if (typeof e?.code === 'number' && e.code > 0 && e.code <= 16 && typeof e.details === 'string') {
    return { code: e.code, details: e.details };
  }
  return { code: grpc.status.INTERNAL, details: e?.message ?? String(err) };
}

type AnyCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;

function callContext(path: string, call: AnyCall): CallContext {
  const controller = new AbortController();
  (call as grpc.ServerUnaryCall<unknown, unknown>).on('cancelled', () =>
    controller.abort(new GrpcError(grpc.status.CANCELLED, 'call cancelled')),
  );
  const deadline = call.getDeadline();
  return {
    method: path,
    metadata: call.metadata,
    signal: controller.signal,
    deadline:
      deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined,
    peer: call.getPeer(),
  };
}

async function writeAll(
  call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  items: AsyncIterable<unknown>,
  signal: AbortSignal,
): Promise<void> {
  const iterator = items[Symbol.asyncIterator]();
  try {
    while (!signal.aborted) {
      const next = await iterator.next();
      if (next.done) break;
      // Respect back-pressure: wait for the client to read before producing more.
      if (!call.write(next.value)) await Promise.race([once(call, 'drain'), once(signal, 'abort')]);
    }
  } finally {
    // Lets a generator run its finally blocks (e.g. free a decoding slot) on cancel.
    if (signal.aborted) await iterator.return?.();
  }
}

/** The request, or INVALID_ARGUMENT when its bytes did not decode. */
function checked(request: unknown): unknown {
  if (request instanceof UndecodableRequest)
    throw new GrpcError(grpc.status.INVALID_ARGUMENT, request.reason);
  return request;
}

/**
 * Wraps a promise-style handler as a grpc-js handler: runs it in a SERVER span whose parent comes
 * from the caller's metadata (traceparent), maps thrown errors to gRPC statuses, records latency.
 */
export function wrapHandler(
  service: DescService,
  method: DescMethod,
  impl: (...args: never[]) => unknown,
  duration: Histogram<string>,
): grpc.UntypedHandleCall {
  const path = `/${service.typeName}/${method.name}`;
  const fn = impl as unknown as (req: unknown, ctx: CallContext) => unknown;
  const observe = (start: bigint, code: grpc.status) =>
    duration.observe(
      { method: path, code: grpc.status[code] },
      Number(process.hrtime.bigint() - start) / 1e9,
    );
  const traced = <T>(call: AnyCall, work: (ctx: CallContext) => Promise<T>) =>
    withSpan(`grpc.server ${path}`, () => work(callContext(path, call)), {
      kind: SpanKind.SERVER,
      parent: extractGrpcMetadata(call.metadata),
      attributes: { 'rpc.system': 'grpc', 'rpc.service': service.typeName, 'rpc.method': method.name },
    });

  // How a call ends, whatever its kind: the outcome is recorded, then sent as one response or as the
  // end (or error) of the response stream.
  const failed = (start: bigint, err: unknown) => {
    const status = toServiceError(err);
    observe(start, status.code ?? grpc.status.INTERNAL);
    return status;
  };
  const respond = (start: bigint, work: Promise<unknown>, callback: grpc.sendUnaryData<unknown>) =>
    work.then(
      (res) => {
        observe(start, grpc.status.OK);
        callback(null, res);
      },
      (err) => callback(failed(start, err)),
    );
  const stream = (
    start: bigint,
    call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
    responses: Promise<void>,
  ) =>
    responses.then(
      () => {
        observe(start, grpc.status.OK);
        call.end();
      },
      (err) => call.emit('error', failed(start, err)),
    );

  switch (method.methodKind) {
    case 'unary':
      return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const start = process.hrtime.bigint();
        respond(
          start,
          traced(call, async (ctx) => fn(checked(call.request), ctx)),
          callback,
        );
      };
    case 'server_streaming':
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const start = process.hrtime.bigint();
        stream(
          start,
          call,
          traced(call, async (ctx) =>
            writeAll(call, fn(checked(call.request), ctx) as AsyncIterable<unknown>, ctx.signal),
          ),
        );
      };
    case 'client_streaming':
      return (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const start = process.hrtime.bigint();
        respond(
          start,
          traced(call, async (ctx) => fn(call as AsyncIterable<unknown>, ctx)),
          callback,
        );
      };
    default:
      return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        const start = process.hrtime.bigint();
        stream(
          start,
          call,
          traced(call, async (ctx) =>
            writeAll(call, fn(call as AsyncIterable<unknown>, ctx) as AsyncIterable<unknown>, ctx.signal),
          ),
        );
      };
  }
}
