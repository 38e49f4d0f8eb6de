// Where spans go (none, memory, console, OTLP, a file), and the globally registered tracer provider.
import { readFileSync } from 'node:fs';
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { JsonLinesSpanExporter, type SpanRecord } from './file-exporter.js';

/**
 * Where spans go: 'none' (default), 'memory' (tests read them back), 'console', 'otlp' (OTLP/HTTP to
 * otlpUrl or OTEL_EXPORTER_OTLP_ENDPOINT), or 'file:<path>' (JSON lines, for cross-process tests).
 */
export type TraceExporterKind = 'none' | 'memory' | 'console' | 'otlp' | `file:${string}`;

export interface TracingSetup {
  provider: NodeTracerProvider;
  /** Present when the exporter is 'memory'. */
  memory?: InMemorySpanExporter;
}

export function parseExporterKind(value: string | undefined): TraceExporterKind {
  const v = (value ?? 'none').trim();
  if (
    v === 'none' ||
    v === 'memory' ||
    v === 'console' ||
    v === 'otlp' ||
    (v.startsWith('file:') && v.length > 5)
  ) {
    return v as TraceExporterKind;
  }
  throw new Error(
    `unknown trace exporter ${JSON.stringify(value)}; expected none, memory, console, otlp or file:<path>`,
  );
}

/**
 * Builds and registers (globally: tracer provider, AsyncLocalStorage context manager, W3C propagator)
 * a tracer provider for serviceName. A second call replaces the first, so tests may init per case.
 */
export function setupTracing(
  serviceName: string,
  exporter: TraceExporterKind,
  otlpUrl?: string,
): TracingSetup {
  const spanProcessors: SpanProcessor[] = [];
  let memory: InMemorySpanExporter | undefined;
  if (exporter === 'memory') {
    memory = new InMemorySpanExporter();
    spanProcessors.push(new SimpleSpanProcessor(memory));
  } else if (exporter === 'console') {
    spanProcessors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
  } else if (exporter === 'otlp') {
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter(otlpUrl ? { url: otlpUrl } : {})));
  } else if (exporter.startsWith('file:')) {
    spanProcessors.push(new SimpleSpanProcessor(new JsonLinesSpanExporter(exporter.slice(5))));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors,
  });
  // Replace whatever an earlier init (or another library) registered.
  trace.disable();
  context.disable();
  propagation.disable();
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return { provider, memory };
}

/** Reads the spans a 'file:<path>' exporter wrote (possibly from several processes). */
export function readSpanFile(path: string): SpanRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as SpanRecord);
}
