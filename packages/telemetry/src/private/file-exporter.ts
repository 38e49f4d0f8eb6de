// Spans as JSON lines in a file, appended synchronously, so cross-process tests can read them back.
import { appendFileSync } from 'node:fs';
import { type ExportResult, ExportResultCode, hrTimeToMicroseconds } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';

/** One finished span as a JSON line (what the file exporter writes and readSpanFile returns). */
export interface SpanRecord {
  service: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  startUs: number;
  durationUs: number;
  status: number;
  attributes: Record<string, unknown>;
}

export function spanToRecord(span: ReadableSpan): SpanRecord {
  const ctx = span.spanContext();
  return {
    service: String(span.resource.attributes['service.name'] ?? ''),
    name: span.name,
    kind: span.kind,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    startUs: hrTimeToMicroseconds(span.startTime),
    durationUs: hrTimeToMicroseconds(span.duration),
    status: span.status.code,
    attributes: { ...span.attributes },
  };
}

/**
 * Appends each span as a JSON line, synchronously, so spans of a process killed with SIGKILL are not lost.
 * Several processes may share one file: each line is one small append.
 */
export class JsonLinesSpanExporter implements SpanExporter {
  constructor(private readonly path: string) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      appendFileSync(this.path, spans.map((s) => `${JSON.stringify(spanToRecord(s))}\n`).join(''));
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}
}
