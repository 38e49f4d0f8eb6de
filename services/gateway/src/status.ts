// From serving errors to gRPC statuses. A RESOURCE_EXHAUSTED answer carries the retry delay twice:
// as google.rpc.RetryInfo inside grpc-status-details-bin (the standard rich error model, which
// gRPC clients and proxies understand) and as a plain `retry-after-ms` trailer for simple clients.

import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { GrpcError } from '@emoverse/service-kit';
import type { ServingErrorCode } from '@emoverse/serving';
import { isServingError } from '@emoverse/serving';
import * as grpc from '@grpc/grpc-js';

const CODES: Record<ServingErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  CANCELLED: grpc.status.CANCELLED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  INTERNAL: grpc.status.INTERNAL,
};

/** google.rpc.Status{code, message, details: [Any{google.rpc.RetryInfo{retry_delay: Duration}}]}. */
export function retryInfoStatus(code: number, message: string, retryAfterMs: number): Uint8Array {
  const seconds = Math.floor(retryAfterMs / 1000);
  const nanos = Math.round((retryAfterMs % 1000) * 1e6);
  const duration = new BinaryWriter().uint32(8).int64(seconds).uint32(16).int32(nanos).finish();
  const retryInfo = new BinaryWriter().uint32(10).bytes(duration).finish();
  const any = new BinaryWriter()
    .uint32(10)
    .string('type.googleapis.com/google.rpc.RetryInfo')
    .uint32(18)
    .bytes(retryInfo)
    .finish();
  return new BinaryWriter().uint32(8).int32(code).uint32(18).string(message).uint32(26).bytes(any).finish();
}

/** Reads the retry delay back from a status's trailers (for clients and tests). */
export function retryAfterMs(metadata: grpc.Metadata | undefined): number | undefined {
  const v = metadata?.get('retry-after-ms')[0];
  return v === undefined ? undefined : Number(v);
}

/** A GrpcError (which service-kit turns into the status) for anything a handler throws. */
export function toGrpcError(e: unknown, code?: grpc.status): GrpcError {
  if (e instanceof GrpcError) return e;
  if (code !== undefined) return new GrpcError(code, (e as Error).message);
  if (isServingError(e)) {
    const status = CODES[e.code];
    const retry = (e as { retryAfterMs?: number }).retryAfterMs;
    if (retry === undefined) return new GrpcError(status, e.message);
    const metadata = new grpc.Metadata();
    metadata.set('retry-after-ms', String(retry));
    metadata.set('grpc-status-details-bin', Buffer.from(retryInfoStatus(status, e.message, retry)));
    return new GrpcError(status, e.message, metadata);
  }
  // A downstream gRPC failure keeps its code; anything else is a bug, said as such.
  const err = e as { code?: unknown; details?: unknown; message?: string };
  if (typeof err?.code === 'number' && typeof err.details === 'string')
    return new GrpcError(err.code, err.details);
  return new GrpcError(grpc.status.INTERNAL, `internal error: ${err?.message ?? String(e)}`);
}
