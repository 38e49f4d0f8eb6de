// OpenTelemetry traces (W3C context through gRPC metadata and NATS headers), Prometheus metrics and
// pino logs that carry the trace id.

export { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
export { Counter, Gauge, Histogram, type Registry } from 'prom-client';
export type { SpanRecord } from './private/file-exporter.js';
export { createLogger, type Logger } from './private/logger.js';
export { createRegistry, type MetricsServer, startMetricsServer } from './private/metrics.js';
export {
  contextFromHeaders,
  extractGrpcMetadata,
  extractNatsHeaders,
  type HeaderCarrier,
  injectGrpcMetadata,
  injectNatsHeaders,
  type MetadataCarrier,
  traceHeaders,
} from './private/propagation.js';
export { activeTraceIds, type WithSpanOptions, withSpan } from './private/spans.js';
export { initTelemetry, type Telemetry, type TelemetryOptions } from './private/telemetry.js';
export { parseExporterKind, readSpanFile, type TraceExporterKind } from './private/tracing.js';
