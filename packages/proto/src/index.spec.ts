import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  ActionUnit,
  AU_NAMES,
  AuScoredSchema,
  auIndex,
  auRecordToVector,
  auVectorToRecord,
  file_emoverse_v1_gateway,
  GatewayService,
  Task,
  taskFromName,
  taskName,
} from './index.js';

test('AU_NAMES follows the ActionUnit enum order', () => {
  assert.equal(AU_NAMES.length, 17);
  AU_NAMES.forEach((name, i) => {
    assert.equal(ActionUnit[name as keyof typeof ActionUnit], i + 1, name);
  });
  assert.equal(auIndex('AU12'), 8);
  assert.throws(() => auIndex('AU28'), /unknown action unit "AU28"/);
  const v = auRecordToVector({ AU06: 1.5, AU25: 2 });
  assert.equal(v[auIndex('AU06')], 1.5);
  assert.equal(auVectorToRecord(v).AU25, 2);
  assert.throws(() => auVectorToRecord([1, 2]), /17 intensities, got 2/);
});

test('task names round-trip', () => {
  assert.equal(taskFromName('ECPE'), Task.ECPE);
  assert.equal(taskName(Task.FER), 'fer');
  assert.throws(() => taskFromName('ner'), /unknown task "ner"/);
});

test('an AuScored event survives binary encoding', () => {
  const msg = create(AuScoredSchema, {
    jobId: 'j1',
    hasFace: true,
    peak: { trackId: 2, frameIndex: 7, sF: 3.5, aus: { intensity: auRecordToVector({ AU12: 3.5 }) } },
    baselines: { 2: { intensity: auRecordToVector({}) } },
  });
  const back = fromBinary(AuScoredSchema, toBinary(AuScoredSchema, msg));
  assert.equal(back.peak?.trackId, 2);
  assert.ok(Math.abs((back.peak?.aus?.intensity[auIndex('AU12')] ?? 0) - 3.5) < 1e-6);
  assert.equal(back.baselines[2].intensity.length, 17);
});

test('the gateway has one RPC per task, streaming Generate, and Analyze (unary and streaming)', () => {
  const names = GatewayService.methods.map((m) => m.name);
  assert.deepEqual(names, [
    'Sentiment',
    'Emotion',
    'FacialExpression',
    'EmotionReason',
    'EmotionCausePairs',
    'Generate',
    'Analyze',
    'AnalyzeStream',
  ]);
  assert.equal(GatewayService.method.generate.methodKind, 'server_streaming');
  assert.equal(GatewayService.method.analyzeStream.methodKind, 'server_streaming');
  assert.equal(file_emoverse_v1_gateway.services.length, 1);
});
