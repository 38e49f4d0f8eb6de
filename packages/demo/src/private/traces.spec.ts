import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findTrace, traceTarget, traceTree } from './traces.js';

test('traces go to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else to <out>/traces.jsonl', () => {
  assert.deepEqual(traceTarget('/r', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), {
    exporter: 'otlp',
    where: 'OTLP endpoint http://127.0.0.1:4318',
  });
  assert.equal(traceTarget('/r', {}).exporter, 'file:/r/traces.jsonl');
});

test('findTrace keeps the named span and what is under it, across services; traceTree indents it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-traces-'));
  const span = (service: string, name: string, spanId: string, parentSpanId: string, startUs: number) => ({
    service,
    name,
    kind: 0,
    traceId: 't1',
    spanId,
    parentSpanId,
    startUs,
    durationUs: 2000,
    status: 0,
    attributes: {},
  });
  const file = join(dir, 'traces.jsonl');
  writeFileSync(
    file,
    [
      span('demo', 'demo.serving', 'a', '', 0),
      span('demo', 'grpc.client /x.Gateway/Sentiment', 'b', 'a', 1),
      span('demo', 'grpc.client /x.Gateway/FacialExpression', 'c', 'a', 2),
      span('gateway', 'grpc.server /x.Gateway/FacialExpression', 'd', 'c', 3),
      span('au-scorer', 'grpc.server /x.AuScorer/Score', 'e', 'd', 4),
    ]
      .map((s) => JSON.stringify(s))
      .join('\n'),
  );
  const spans = findTrace(file, 'Gateway/FacialExpression');
  assert.deepEqual(spans.map((s) => s.spanId).sort(), ['c', 'd', 'e']);
  assert.deepEqual(traceTree(spans), [
    'demo: grpc.client /x.Gateway/FacialExpression (2.0 ms)',
    '  gateway: grpc.server /x.Gateway/FacialExpression (2.0 ms)',
    '    au-scorer: grpc.server /x.AuScorer/Score (2.0 ms)',
  ]);
  rmSync(dir, { recursive: true, force: true });
});
