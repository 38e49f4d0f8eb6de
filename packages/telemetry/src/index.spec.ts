// Traces across NATS and gRPC, spans on error, trace ids in logs, the file exporter and /metrics.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import {
  Counter,
  extractGrpcMetadata,
  extractNatsHeaders,
  initTelemetry,
  injectGrpcMetadata,
  injectNatsHeaders,
  readSpanFile,
  SpanKind,
  trace,
  withSpan,
} from './index.js';

// Minimal stand-ins for NATS MsgHdrs and grpc-js Metadata: only their get/set shapes matter here.
class Headers {
  readonly map = new Map<string, string>();
  get(k: string): string {
    return this.map.get(k) ?? '';
  }
  set(k: string, v: string): void {
    this.map.set(k, v);
  }
}
class Metadata {
  readonly map = new Map<string, string[]>();
  get(k: string): string[] {
    return this.map.get(k) ?? [];
  }
  set(k: string, v: string): void {
    this.map.set(k, [v]);
  }
}

test('a span started from NATS headers is a child of the publishing span', async () => {
  const t = initTelemetry({ serviceName: 'unit', exporter: 'memory', defaultMetrics: false });
  const headers = new Headers();
  const published = await withSpan('publish', (span) => {
    injectNatsHeaders(headers);
    return span.spanContext();
  });
  assert.match(headers.get('traceparent'), new RegExp(`^00-${published.traceId}-${published.spanId}-01$`));
  await withSpan('consume', () => undefined, {
    parent: extractNatsHeaders(headers),
    kind: SpanKind.CONSUMER,
  });
  const spans = t.memory!.getFinishedSpans();
  const consume = spans.find((s) => s.name === 'consume')!;
  assert.equal(consume.spanContext().traceId, published.traceId);
  assert.equal(consume.parentSpanContext?.spanId, published.spanId);
  await t.shutdown();
});

test('gRPC metadata carries the trace and no headers mean a new root', async () => {
  const t = initTelemetry({ serviceName: 'unit', exporter: 'memory', defaultMetrics: false });
  const md = new Metadata();
  let traceId = '';
  await withSpan('client', (span) => {
    traceId = span.spanContext().traceId;
    injectGrpcMetadata(md);
  });
  const extracted = extractGrpcMetadata(md);
  assert.equal(trace.getSpanContext(extracted)?.traceId, traceId);
  assert.equal(trace.getSpanContext(extractGrpcMetadata(new Metadata())), undefined);
  assert.equal(trace.getSpanContext(extractNatsHeaders(undefined)), undefined);
  await t.shutdown();
});

test('withSpan marks errors and rethrows', async () => {
  const t = initTelemetry({ serviceName: 'unit', exporter: 'memory', defaultMetrics: false });
  await assert.rejects(
    withSpan('boom', () => {
      throw new Error('bad');
    }),
    /bad/,
  );
  const [span] = t.memory!.getFinishedSpans();
  assert.equal(span.status.code, 2);
  assert.equal(span.events[0]?.name, 'exception');
  await t.shutdown();
});

test('log lines carry trace_id and span_id inside a span', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const t = initTelemetry({
    serviceName: 'logsvc',
    exporter: 'memory',
    logDestination: sink,
    defaultMetrics: false,
  });
  let ids = { traceId: '', spanId: '' };
  await withSpan('work', (span) => {
    ids = span.spanContext();
    t.logger.info('inside');
  });
  t.logger.info('outside');
  const inside = JSON.parse(lines[0]);
  assert.equal(inside.service, 'logsvc');
  assert.equal(inside.trace_id, ids.traceId);
  assert.equal(inside.span_id, ids.spanId);
  assert.equal(JSON.parse(lines[1]).trace_id, undefined);
  await t.shutdown();
});

test('the file exporter writes spans a reader can link', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spans-'));
  try {
    const file = join(dir, 'spans.jsonl');
    const t = initTelemetry({ serviceName: 'filesvc', exporter: `file:${file}`, defaultMetrics: false });
    await withSpan('parent', () => withSpan('child', () => undefined));
    await t.shutdown();
    const spans = readSpanFile(file);
    const parent = spans.find((s) => s.name === 'parent')!;
    const child = spans.find((s) => s.name === 'child')!;
    assert.equal(child.parentSpanId, parent.spanId);
    assert.equal(parent.parentSpanId, '');
    assert.equal(child.service, 'filesvc');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/metrics serves the registry in Prometheus format', async () => {
  const t = initTelemetry({ serviceName: 'metricsvc', exporter: 'none' });
  const requests = new Counter({
    name: 'emoverse_test_requests_total',
    help: 'test',
    registers: [t.metrics],
  });
  requests.inc(3);
  const server = await t.serveMetrics(0, '127.0.0.1');
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.match(body, /emoverse_test_requests_total\{service="metricsvc"\} 3/);
    assert.match(body, /process_cpu_user_seconds_total/);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
  } finally {
    await t.shutdown();
  }
});

test('an unknown exporter name fails with the accepted values', async () => {
  const { parseExporterKind } = await import('./index.js');
  assert.throws(() => parseExporterKind('jaeger'), /unknown trace exporter "jaeger"; expected none, memory/);
  assert.equal(parseExporterKind(undefined), 'none');
});
