// Media through the vision services: the gateway sends video bytes to au-scorer (a real process,
// real ffmpeg and face models), gets the peak frame and AUs, feeds them to the model as visual
// tokens, and one trace follows gateway -> au-scorer -> model. A video with no face is refused. The
// gateway's T_v for a clip equals the one training computes in process for the same frames. A still
// image goes the same road: FacialExpression and ERI answer on it, its T_v is one frame.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { blobBuckets, connectBus } from '@emoverse/bus';
import { auFrame, type FrameGeometry, scoreAus } from '@emoverse/facs';
import { FACE_FEATURES, nanoPreset, visualTokensFromFrames } from '@emoverse/models';
import { auVectorToRecord, MediaSchema } from '@emoverse/proto';
import { clipVisualTokens, EMOTION_LABELS, faceFeatureFrames } from '@emoverse/serving';
import { readSpanFile, type SpanRecord } from '@emoverse/telemetry';
import {
  type NatsServer,
  type ServiceProcess,
  sharedDir,
  startNatsServer,
  startService,
} from '@emoverse/testing';
import { analyzeFrames, analyzeVideo, decodeImage } from '@emoverse/video';
import * as grpc from '@grpc/grpc-js';
import { GatewayClient } from '../client.js';
import { AuScorerPipeline } from '../media.js';

const tmp = mkdtempSync(join(tmpdir(), 'gateway-vision-'));
const traces = { gateway: join(tmp, 'gateway-spans.jsonl'), auScorer: join(tmp, 'au-scorer-spans.jsonl') };
let nats: NatsServer;
let auScorer: ServiceProcess;
let gateway: ServiceProcess;
let client: GatewayClient;

before(async () => {
  nats = await startNatsServer();
  auScorer = await startService('au-scorer', {
    timeoutMs: 120_000,
    nats,
    env: {
      EMOVERSE_LOG_LEVEL: 'warn',
      EMOVERSE_TRACE_EXPORTER: `file:${traces.auScorer}`,
    },
  });
  gateway = await startService('gateway', {
    timeoutMs: 120_000,
    nats,
    env: {
      EMOVERSE_LOG_LEVEL: 'warn',
      EMOVERSE_TRACE_EXPORTER: `file:${traces.gateway}`,
      EMOVERSE_AU_SCORER_ADDR: auScorer.grpcAddress,
      EMOVERSE_MODEL_SEED: '1',
      EMOVERSE_NANO_CORPUS: join(sharedDir(), 'data/m2se_format/meld_dev_er_sample.json'),
      EMOVERSE_MODEL_CACHE: join(tmp, 'cache'),
    },
  });
  client = new GatewayClient(gateway.grpcAddress);
});

after(async () => {
  client?.close();
  await gateway?.stop();
  await auScorer?.stop();
  await nats?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const smilePath = join(sharedDir(), 'data/faces/single_face.mp4');
const smile = readFileSync(smilePath);

async function spans(file: string, until: (s: SpanRecord[]) => boolean): Promise<SpanRecord[]> {
  for (let i = 0; i < 100; i++) {
    const s = existsSync(file) ? readSpanFile(file) : [];
    if (until(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  return existsSync(file) ? readSpanFile(file) : [];
}

describe('gateway with the vision services', () => {
  it('reads a video through au-scorer: peak frame, active AUs, caption and emotion; one trace', async () => {
    const r = await client.facialExpression(
      { input: { media: { source: { case: 'video', value: smile } } } },
      { timeoutMs: 120_000 },
    );
    assert.ok(r.peak, 'the peak frame comes back');
    assert.equal(r.peak.aus?.intensity.length, 17);
    assert.ok(r.peak.sF > 0);
    assert.ok(r.activeAus.length > 0 && r.activeAus.every((a) => /^AU\d\d$/.test(a)), r.activeAus.join(','));
    assert.ok((EMOTION_LABELS as readonly string[]).includes(r.label));
    assert.equal(typeof r.caption, 'string');

    const isServer = (s: SpanRecord) => s.name.includes('GatewayService/FacialExpression') && s.kind === 1;
    const gw = await spans(traces.gateway, (s) => s.some(isServer) && s.some((x) => x.name === 'model.fer'));
    const root = gw.find(isServer);
    assert.ok(root, gw.map((s) => s.name).join(', '));
    const inTrace = gw.filter((s) => s.traceId === root.traceId);
    const call = inTrace.find((s) => s.name.includes('AuScorerService/Score'));
    assert.ok(call, 'the gateway called au-scorer inside the request trace');
    assert.ok(
      inTrace.some((s) => s.name === 'model.fer'),
      'the model ran inside the request trace',
    );
    const au = await spans(traces.auScorer, (s) => s.some((x) => x.traceId === root.traceId));
    const served = au.find((s) => s.traceId === root.traceId && s.name.includes('AuScorerService/Score'));
    assert.ok(served, 'au-scorer served the call in the same trace');
    assert.equal(served.parentSpanId, call.spanId, "au-scorer's span is the child of the gateway's call");
  });

  it("gives the model the T_v that training computes for the same clip's frames, all 152 values", async () => {
    // The gateway's road: au-scorer over gRPC, then featuresFromScore, whose frames the handlers give
    // the model; the model takes its visualTokens of them (visualTokensFromFrames).
    const pipeline = new AuScorerPipeline(auScorer.grpcAddress);
    const served = await pipeline
      .features(create(MediaSchema, { source: { case: 'video', value: smile } }), {
        deadline: Date.now() + 120_000,
      })
      .finally(() => pipeline.close());
    // Training's road, in this process: the same clip through @emoverse/video (with every face's
    // descriptor) and @emoverse/facs at au-scorer's default rate (AU_SCORER_FPS = 5), then serving's
    // clipVisualTokens.
    const frames: FrameGeometry[] = [];
    for await (const f of analyzeVideo(smilePath, { fps: 5, descriptors: true })) {
      frames.push({ index: f.index, timeS: f.timeS, faces: f.faces });
    }
    const analysis = scoreAus(frames);
    const n = nanoPreset(1000).visualTokens;
    const trained = clipVisualTokens(analysis, n);

    assert.equal(served.visual.length, 12, 'one feature vector per usable frame of the peak person');
    assert.deepEqual(served.visual, faceFeatureFrames(analysis));
    assert.deepEqual(visualTokensFromFrames(served.visual, n), trained);
    // No part is zeroed any more: AUs, expression probabilities and descriptor all carry values.
    const { aus, expressions } = FACE_FEATURES;
    for (const f of served.visual) {
      assert.ok(f.subarray(0, aus).some((v) => v > 0));
      const probs = f.subarray(aus, aus + expressions);
      assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-3);
      assert.ok(f.subarray(aus + expressions).some((v) => v !== 0));
    }
  });

  it('reads a still image: FacialExpression captions from its AUs, ERI takes it too', async () => {
    const jpg = readFileSync(join(sharedDir(), 'data/faces/single_face.jpg'));
    const image = create(MediaSchema, { source: { case: 'image', value: jpg } });
    const r = await client.facialExpression({ input: { media: image } }, { timeoutMs: 120_000 });
    assert.ok(r.peak?.aus, 'the peak comes back');
    assert.equal(r.peak.frameIndex, 0, 'the peak is the image itself');
    assert.equal(r.peak.timeS, 0);
    assert.ok(r.peak.sF > 0);
    // AU_frame of the peak, and a caption generated from the visual tokens built from those AUs.
    assert.deepEqual(r.activeAus, auFrame(auVectorToRecord(r.peak.aus.intensity)));
    assert.ok(r.activeAus.length > 0, r.activeAus.join(','));
    assert.equal(typeof r.caption, 'string');
    assert.ok((EMOTION_LABELS as readonly string[]).includes(r.label));

    // The visual tokens are the image's own: one frame, as the packages compute it in process.
    const pipeline = new AuScorerPipeline(auScorer.grpcAddress);
    const served = await pipeline
      .features(image, { deadline: Date.now() + 120_000 })
      .finally(() => pipeline.close());
    const frames: FrameGeometry[] = [];
    for await (const f of analyzeFrames([await decodeImage(jpg)], { descriptors: true })) {
      frames.push({ index: f.index, timeS: f.timeS, faces: f.faces });
    }
    assert.equal(served.visual.length, 1);
    assert.deepEqual(served.visual, faceFeatureFrames(scoreAus(frames)));

    const eri = await client.emotionReason(
      { input: { text: 'Look at this!', media: image }, emotion: 'joy' },
      { timeoutMs: 120_000 },
    );
    assert.equal(eri.emotion, 'joy');
    assert.equal(typeof eri.rationale, 'string');
  });

  it('takes a video in the object store by reference', async () => {
    const bus = await connectBus({ ...nats.client(), name: 'vision-test' });
    try {
      const ref = await bus.blobs.put(blobBuckets.videos, 'tests/single_face.mp4', smile, 'video/mp4');
      const fromBlob = await client.emotion(
        { input: { text: 'Look!', media: { source: { case: 'blob', value: ref } } } },
        { timeoutMs: 120_000 },
      );
      assert.ok((EMOTION_LABELS as readonly string[]).includes(fromBlob.label));
    } finally {
      await bus.close();
    }
  });

  it('answers Emotion with media, and refuses a video with no face with INVALID_ARGUMENT', async () => {
    const r = await client.emotion(
      { input: { text: 'Look at this!', media: { source: { case: 'video', value: smile } } } },
      { timeoutMs: 120_000 },
    );
    assert.ok((EMOTION_LABELS as readonly string[]).includes(r.label));
    const noFace = join(tmp, 'no-face.mp4');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=10',
      '-t',
      '1',
      '-pix_fmt',
      'yuv420p',
      noFace,
    ]);
    await assert.rejects(
      client.emotion(
        { input: { text: 'hi', media: { source: { case: 'video', value: readFileSync(noFace) } } } },
        { timeoutMs: 120_000 },
      ),
      (e: unknown) => {
        const err = e as grpc.ServiceError;
        assert.equal(grpc.status[err.code], 'INVALID_ARGUMENT', err.details);
        assert.match(err.details, /no face/);
        return true;
      },
    );
  });
});
