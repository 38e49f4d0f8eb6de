// initTelemetry: tracing, a logger and a metrics registry for one process (or one test).
import type { Tracer } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import type { InMemorySpanExporter, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { DestinationStream, Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createLogger } from './logger.js';
import { createRegistry, type MetricsServer, startMetricsServer } from './metrics.js';
import { parseExporterKind, setupTracing, type TraceExporterKind } from './tracing.js';

export interface TelemetryOptions {
  serviceName: string;
  /** Default: $EMOVERSE_TRACE_EXPORTER, else 'none'. */
  exporter?: TraceExporterKind;
  /** OTLP/HTTP traces URL (default: the exporter's OTEL_EXPORTER_OTLP_* env handling). */
  otlpUrl?: string;
  /** pino level (default $EMOVERSE_LOG_LEVEL, else 'info'). */
  logLevel?: string;
  /** Log destination (default stdout). */
  logDestination?: DestinationStream;
  /** Collect default Node process metrics (default true). */
  defaultMetrics?: boolean;
}

export interface Telemetry {
  serviceName: string;
  tracer: Tracer;
  provider: NodeTracerProvider;
  logger: Logger;
  metrics: Registry;
  /** The in-memory exporter when exporter is 'memory'. */
  memory?: InMemorySpanExporter;
  /** Serves /metrics from `metrics`. */
  serveMetrics(port: number, host?: string): Promise<MetricsServer>;
  /** Flushes and shuts down tracing and closes the metrics server if started. */
  shutdown(): Promise<void>;
}

/** One call per process (or per test): tracing registered globally, a logger and a metrics registry. */
export function initTelemetry(options: TelemetryOptions): Telemetry {
  const exporter = options.exporter ?? parseExporterKind(process.env.EMOVERSE_TRACE_EXPORTER);
  const { provider, memory } = setupTracing(options.serviceName, exporter, options.otlpUrl);
  const logger = createLogger(
    options.serviceName,
    options.logLevel ?? process.env.EMOVERSE_LOG_LEVEL ?? 'info',
    options.logDestination,
  );
  const metrics = createRegistry(options.serviceName, options.defaultMetrics ?? true);
  const servers: MetricsServer[] = [];
  return {
    serviceName: options.serviceName,
    tracer: trace.getTracer(options.serviceName),
    provider,
    logger,
    metrics,
    memory,
    async serveMetrics(port, host) {
      const server = await startMetricsServer(metrics, port, host);
      servers.push(server);
      return server;
    },
    async shutdown() {
      await Promise.all(servers.map((s) => s.close()));
      await provider.forceFlush();
      await provider.shutdown();
    },
  };
}
