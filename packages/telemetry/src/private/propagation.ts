// W3C trace context in and out of NATS headers, gRPC metadata and plain records.
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

// W3C trace context (traceparent / tracestate). Used directly rather than through the global
// propagator so that inject/extract work the same before, during and after initTelemetry().
const w3c = new W3CTraceContextPropagator();

/** Anything with NATS MsgHdrs' get/set (structural, so this package does not depend on nats). */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
}

/** Anything with grpc-js Metadata's get/set. */
export interface MetadataCarrier {
  get(key: string): Array<string | Buffer>;
  set(key: string, value: string): void;
}

const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
const recordGetter: TextMapGetter<Record<string, string>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** The trace context of ctx (default: the active one) as {traceparent, tracestate?}. Empty without a span. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const out: Record<string, string> = {};
  w3c.inject(ctx, out, recordSetter);
  // Baggage travels too when a global propagator for it is registered.
  propagation.inject(ctx, out, recordSetter);
  return out;
}

/** A context whose remote parent is the trace in headers (a plain record); ROOT_CONTEXT-based when absent. */
export function contextFromHeaders(headers: Record<string, string>, base: Context = ROOT_CONTEXT): Context {
  return w3c.extract(base, headers, recordGetter);
}

/** Writes traceparent/tracestate of ctx into NATS message headers. */
export function injectNatsHeaders(headers: HeaderCarrier, ctx: Context = context.active()): void {
  for (const [k, v] of Object.entries(traceHeaders(ctx))) headers.set(k, v);
}

/** The remote parent context carried by NATS message headers (ROOT_CONTEXT when none). */
export function extractNatsHeaders(
  headers: HeaderCarrier | undefined,
  base: Context = ROOT_CONTEXT,
): Context {
  if (!headers) return base;
  const record: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const v = headers.get(key);
    if (v) record[key] = v;
  }
  return contextFromHeaders(record, base);
}

/** Writes traceparent/tracestate of ctx into gRPC metadata. */
export function injectGrpcMetadata(metadata: MetadataCarrier, ctx: Context = context.active()): void {
  for (const [k, v] of Object.entries(traceHeaders(ctx))) metadata.set(k, v);
}

/** The remote parent context carried by gRPC metadata (ROOT_CONTEXT when none). */
export function extractGrpcMetadata(
  metadata: MetadataCarrier | undefined,
  base: Context = ROOT_CONTEXT,
): Context {
  if (!metadata) return base;
  const record: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const v = metadata.get(key)[0];
    if (v !== undefined) record[key] = v.toString();
  }
  return contextFromHeaders(record, base);
}
