// Analyze and AnalyzeStream over gRPC, Connect and gRPC-web on the gateway's one port (keyword model, a
// recording media pipeline), and the bad inputs: each gets its code and the gateway keeps serving.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import {
  type AnalysisInputSchema,
  AnalysisSchema,
  auRecordToVector,
  GatewayService,
  type Media,
} from '@emoverse/proto';
import { invalidArgument } from '@emoverse/serving';
import { KeywordModel } from '@emoverse/serving/testing';
import { type NatsServer, startNatsServer, waitForHealth } from '@emoverse/testing';
import * as grpc from '@grpc/grpc-js';
import { GatewayClient } from './client.js';
import type { MediaPipeline, VisualFeatures } from './media.js';
import { createGatewayService } from './service.js';

const TOKEN = 'analyze-spec-token';
/** Enough of an MP4 for the format check (the recording pipeline never decodes it). */
const MP4 = Uint8Array.from([0, 0, 0, 0x18, ...Buffer.from('ftypisom'), 0, 0, 2, 0, ...Buffer.from('isom')]);
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

/** Answers every video with a face at frame 12 (AU12 3.5, AU06 2), and every image with no face. */
class RecordingMedia implements MediaPipeline {
  calls: { peakImage?: boolean }[] = [];
  async features(media: Media, options: { peakImage?: boolean }): Promise<VisualFeatures> {
    this.calls.push(options);
    if (media.source.case === 'image') throw invalidArgument('no face was found in the media');
    return {
      visual: [new Float32Array(152)],
      peak: {
        $typeName: 'emoverse.v1.PersonPeak',
        trackId: 1,
        frameIndex: 12,
        timeS: 0.48,
        sF: 5.5,
        aus: { $typeName: 'emoverse.v1.AuVector', intensity: auRecordToVector({ AU12: 3.5, AU06: 2 }) },
      },
      activeAus: ['AU12', 'AU06'],
      peakImage: {
        $typeName: 'emoverse.v1.PeakImage',
        jpeg: Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]),
        width: 64,
        height: 48,
        face: { $typeName: 'emoverse.v1.Box', x: 10, y: 8, width: 30, height: 30 },
        landmarks: [12, 20, 30, 20],
      },
    };
  }
  close() {}
}

const conversation = [
  { speaker: 'Ross', text: 'I got the job!' },
  { speaker: 'Rachel', text: 'Really? What a joy, so positive!' },
  { speaker: 'Ross', text: 'Such joy, so positive!' },
];
type Input = MessageInitShape<typeof AnalysisInputSchema>;
const video = (value: Uint8Array) => ({ source: { case: 'video' as const, value } });

let nats: NatsServer;
let running: Awaited<ReturnType<ReturnType<typeof createGatewayService>['run']>>;
let media: RecordingMedia;
let base: string;
let grpcClient: GatewayClient;

before(async () => {
  nats = await startNatsServer();
  media = new RecordingMedia();
  running = await createGatewayService({ startModel: async () => new KeywordModel('v1', 5), media }).run({
    env: {
      ...nats.env('gateway'),
      EMOVERSE_GRPC_HOST: '127.0.0.1',
      EMOVERSE_GRPC_PORT: '0',
      EMOVERSE_LOG_LEVEL: 'warn',
      EMOVERSE_AUTH_TOKEN: TOKEN,
      EMOVERSE_MAX_VIDEO_BYTES: '4096',
      EMOVERSE_MAX_IMAGE_BYTES: '4096',
    },
  });
  await waitForHealth(`127.0.0.1:${running.port}`);
  base = `http://127.0.0.1:${running.port}`;
  grpcClient = new GatewayClient(`127.0.0.1:${running.port}`, { token: TOKEN });
});
after(async () => {
  grpcClient.close();
  await running.stop();
  await nats.stop();
});

const headers = { authorization: `Bearer ${TOKEN}` };
const transports = {
  connect: () => createConnectTransport({ baseUrl: base, httpVersion: '1.1', useBinaryFormat: true }),
  'gRPC-web': () => createGrpcWebTransport({ baseUrl: base, httpVersion: '1.1' }),
};

/** What every protocol must answer for the three-turn conversation with a video on the target. */
function assertWhole(a: ReturnType<typeof create<typeof AnalysisSchema>>) {
  assert.equal(a.target, 3);
  assert.equal(a.emotion?.label, 'joy');
  assert.equal(a.emotion?.probabilities.length, 7);
  assert.equal(a.sentiment?.label, 'positive');
  assert.equal(a.sentiment?.probabilities.length, 3);
  const fer = a.facialExpression!;
  assert.equal(fer.caption, 'v1 says hello');
  assert.deepEqual([fer.peak?.frameIndex, fer.peak?.timeS, fer.peak?.trackId], [12, 0.48, 1]);
  assert.deepEqual(
    fer.aus.map((u) => [u.name, u.intensity]),
    [
      ['AU12', 3.5],
      ['AU06', 2],
    ],
  );
  assert.deepEqual([...(fer.peakImage?.jpeg ?? [])], [0xff, 0xd8, 0xff, 0xd9]);
  assert.equal(fer.peakImage?.face?.width, 30);
  assert.match(a.reason?.rationale ?? '', /^Joy\. /);
  assert.deepEqual(
    a.causes.map((c) => [c.causeUtterance, c.causeSpeaker, c.causeText]),
    [
      [3, 'Ross', conversation[2].text],
      [1, 'Ross', conversation[0].text],
    ],
  );
  assert.deepEqual([a.model?.modelId, a.model?.version], ['emoverse-nano', 'nano-seed-0']);
  const stages = a.timings.map((t) => t.stage).sort();
  assert.deepEqual(stages, [
    'causes',
    'emotion',
    'facial_expression',
    'media',
    'reason',
    'sentiment',
    'total',
  ]);
}

const input: Input = { conversation, target: 3, media: video(MP4) };

describe('Analyze', () => {
  it('over gRPC: one Analysis of all five tasks, the media analysed once with its peak image', async () => {
    media.calls = [];
    const res = await grpcClient.analyze({ input });
    assertWhole(res.analysis!);
    assert.equal(media.calls.length, 1, 'the media is analysed once for the five tasks');
    assert.equal(media.calls[0].peakImage, true, 'with the peak frame image');
  });

  for (const [name, transport] of Object.entries(transports)) {
    it(`over ${name} on the same port: the same Analysis, and AnalyzeStream's parts merge into it`, async () => {
      const client = createClient(GatewayService, transport());
      media.calls = [];
      assertWhole((await client.analyze({ input }, { headers })).analysis!);
      const parts: string[] = [];
      const merged = create(AnalysisSchema);
      for await (const m of client.analyzeStream({ input }, { headers })) {
        parts.push(m.part);
        mergeAnalysis(merged, m.analysis!);
      }
      assertWhole(merged);
      assert.equal(media.calls.length, 2, 'once per request');
      assert.equal(parts[0], 'media');
      assert.equal(parts.at(-1), 'done');
      assert.ok(parts.indexOf('emotion') < parts.indexOf('reason'), 'the emotion before the rationale');
    });
  }

  it('AnalyzeStream over gRPC streams the emotion before the rationale', async () => {
    const msgs = await grpcClient.analyzeStream({ input });
    const parts = msgs.map((m) => m.part);
    assert.ok(parts.indexOf('emotion') < parts.indexOf('reason'));
    assert.equal(msgs.find((m) => m.part === 'emotion')?.analysis?.emotion?.label, 'joy');
  });
});

/** Protobuf merge of a streamed part (singular fields replace, repeated ones append). */
function mergeAnalysis(into: ReturnType<typeof create<typeof AnalysisSchema>>, part: typeof into) {
  if (part.target) into.target = part.target;
  for (const k of ['sentiment', 'emotion', 'reason', 'model'] as const)
    if (part[k]) into[k] = part[k] as never;
  if (part.facialExpression) {
    const f = part.facialExpression;
    into.facialExpression ??= f;
    Object.assign(into.facialExpression, {
      caption: f.caption || into.facialExpression.caption,
      peak: f.peak ?? into.facialExpression.peak,
      peakImage: f.peakImage ?? into.facialExpression.peakImage,
      aus: f.aus.length ? f.aus : into.facialExpression.aus,
    });
  }
  into.causes.push(...part.causes);
  into.timings.push(...part.timings);
}

describe('Analyze refuses bad input with the right code, and the gateway keeps serving', () => {
  const connect = () => createClient(GatewayService, transports.connect());
  const refused = (code: Code, pattern: RegExp) => (e: unknown) => {
    const c = ConnectError.from(e);
    assert.equal(Code[c.code], Code[code], c.rawMessage);
    assert.match(c.rawMessage, pattern);
    return true;
  };
  const grpcRefused = (code: grpc.status, pattern: RegExp) => (e: unknown) => {
    const err = e as grpc.ServiceError;
    assert.equal(grpc.status[err.code], grpc.status[code], err.details);
    assert.match(err.details, pattern);
    return true;
  };
  const cases: [string, Input, Code, RegExp][] = [
    [
      'an empty utterance',
      { conversation: [{ text: ' ' }], target: 1 },
      Code.InvalidArgument,
      /target utterance is empty/,
    ],
    ['a target outside', { conversation, target: 4 }, Code.InvalidArgument, /target 4 is outside the 3-turn/],
    [
      'a non-media file as .mp4',
      { conversation, target: 3, media: video(Buffer.from('hello, not a video')) },
      Code.InvalidArgument,
      /not a video container/,
    ],
    [
      'no face',
      { conversation, target: 3, media: { source: { case: 'image', value: PNG } } },
      Code.InvalidArgument,
      /no face was found/,
    ],
  ];
  for (const [what, bad, code, pattern] of cases) {
    it(`${what}: ${Code[code]} over Connect and gRPC`, async () => {
      await assert.rejects(connect().analyze({ input: bad }, { headers }), refused(code, pattern));
      await assert.rejects(grpcClient.analyze({ input: bad }), grpcRefused(code as number, pattern));
      assertWhole((await connect().analyze({ input }, { headers })).analysis!);
    });
  }

  it('no bearer token: UNAUTHENTICATED over Connect, gRPC-web and gRPC', async () => {
    await assert.rejects(connect().analyze({ input }), refused(Code.Unauthenticated, /bearer token/));
    const web = createClient(GatewayService, transports['gRPC-web']());
    await assert.rejects(web.analyze({ input }), refused(Code.Unauthenticated, /bearer token/));
    const bare = new GatewayClient(`127.0.0.1:${running.port}`);
    try {
      await assert.rejects(bare.analyze({ input }), grpcRefused(grpc.status.UNAUTHENTICATED, /bearer token/));
    } finally {
      bare.close();
    }
  });

  it('an oversized upload is refused from its Content-Length, before its body is sent', async () => {
    const declared = 64 * 1024 * 1024;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${base}/emoverse.v1.GatewayService/Analyze`, {
        method: 'POST',
        headers: { 'content-type': 'application/proto', 'content-length': declared, ...headers },
      });
      req.on('response', (r) => {
        let body = '';
        r.on('data', (c) => {
          body += c;
        });
        r.on('end', () => {
          resolve({ status: r.statusCode ?? 0, body });
          req.destroy();
        });
      });
      req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
      req.write(Buffer.alloc(1024)); // 1 KiB of the declared 64 MiB: the answer comes without the rest.
    });
    assert.equal(res.status, 429);
    assert.match(res.body, /resource_exhausted/);
    const big = video(Buffer.concat([Buffer.from(MP4), Buffer.alloc(8192)]));
    await assert.rejects(
      grpcClient.analyze({ input: { conversation, target: 3, media: big } }),
      grpcRefused(grpc.status.INVALID_ARGUMENT, /video is too large: \d+ bytes, the limit is 4096/),
    );
    assertWhole((await connect().analyze({ input }, { headers })).analysis!);
  });

  it('CORS is off by default: no Access-Control headers for another origin', async () => {
    const res = await fetch(`${base}/emoverse.v1.GatewayService/Analyze`, {
      method: 'OPTIONS',
      headers: { origin: 'http://elsewhere.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});
