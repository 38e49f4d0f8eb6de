// Where the demo's traces go, and one trace drawn as a tree for the report. Every process of the stack
// (the demo itself and the five services) exports its spans the same way: to OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set (Jaeger, Tempo, an OTel collector), else as JSON lines to
// <out>/traces.jsonl, which several processes append to.
import { join } from 'node:path';
import { readSpanFile, type SpanRecord } from '@emoverse/telemetry';

export interface TraceTarget {
  /** Value of EMOVERSE_TRACE_EXPORTER for every process. */
  exporter: 'otlp' | `file:${string}`;
  /** Where a person looks, in words. */
  where: string;
  /** The JSON-lines file, when traces go to a file. */
  file?: string;
}

export function traceTarget(outDir: string, env: NodeJS.ProcessEnv = process.env): TraceTarget {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint) return { exporter: 'otlp', where: `OTLP endpoint ${endpoint}` };
  const file = join(outDir, 'traces.jsonl');
  return { exporter: `file:${file}`, where: file, file };
}

/**
 * The last span whose name contains `nameContains`, with everything under it (across processes: the
 * server spans of other services are its children through the propagated trace context).
 */
export function findTrace(file: string, nameContains: string): SpanRecord[] {
  const spans = readSpanFile(file);
  // The outermost match (a client span, not the server span under it that carries the same method name).
  const hits = spans.filter((s) => s.name.includes(nameContains));
  const ids = new Set(hits.map((s) => s.spanId));
  const hit = hits.reverse().find((s) => !ids.has(s.parentSpanId));
  if (!hit) return [];
  const trace = spans.filter((s) => s.traceId === hit.traceId);
  const keep = new Set([hit.spanId]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of trace)
      if (!keep.has(s.spanId) && keep.has(s.parentSpanId)) {
        keep.add(s.spanId);
        grew = true;
      }
  }
  return trace.filter((s) => keep.has(s.spanId));
}

/** The trace as an indented tree: service, span name, duration. */
export function traceTree(spans: readonly SpanRecord[]): string[] {
  const byParent = new Map<string, SpanRecord[]>();
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) {
    const p = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : '';
    byParent.set(p, [...(byParent.get(p) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    const kids = (byParent.get(parent) ?? []).sort((a, b) => a.startUs - b.startUs);
    for (const s of kids) {
      lines.push(`${'  '.repeat(depth)}${s.service}: ${s.name} (${(s.durationUs / 1000).toFixed(1)} ms)`);
      if (depth < 12) walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines;
}
