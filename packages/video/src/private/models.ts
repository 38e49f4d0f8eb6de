// Loads tfjs on its WASM backend (tfjs-node does not install here), @vladmandic/human's face detector
// and @vladmandic/face-api's 68-landmark, expression and descriptor nets, all from files inside the
// installed packages: nothing is fetched at run time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs-core';

const require = createRequire(import.meta.url);

export type Tf = typeof tfjs;

/** The parts of @vladmandic/human we use. */
export interface HumanFace {
  box: [number, number, number, number];
  /** The box before clamping to the input, relative to the input's width and height. */
  boxRaw: [number, number, number, number];
  score: number;
  boxScore: number;
  faceScore: number;
  /** 468 mesh points + 10 iris points, [x, y, z] in input pixels. */
  mesh: [number, number, number][];
}
/** The settings of human's config that face-tracking.ts changes for one call. */
export interface HumanConfigLike {
  cacheSensitivity: number;
  /** Set by each detect call: whether human's input-change check let it use its box cache. */
  skipAllowed?: boolean;
  face: { enabled: boolean; detector: { skipFrames: number; skipTime: number } };
}
export interface HumanLike {
  /** human's live configuration (absent in fakes: then every call detects). */
  config?: HumanConfigLike;
  load(): Promise<void>;
  detect(input: tfjs.Tensor): Promise<{ face: HumanFace[]; error?: string | null }>;
}

/** The parts of @vladmandic/face-api we use. */
export interface FaceApiLike {
  nets: {
    faceLandmark68Net: NetLike & {
      detectLandmarks(input: tfjs.Tensor4D | tfjs.Tensor3D[]): Promise<LandmarksLike | LandmarksLike[]>;
    };
    faceExpressionNet: NetLike & {
      predictExpressions(
        input: tfjs.Tensor4D | tfjs.Tensor3D[],
      ): Promise<Record<string, number> | Record<string, number>[]>;
    };
    faceRecognitionNet: NetLike & {
      computeFaceDescriptor(input: tfjs.Tensor4D): Promise<Float32Array | Float32Array[]>;
    };
  };
}
interface NetLike {
  loadFromDisk(dir: string): Promise<void>;
  isLoaded: boolean;
}
export interface LandmarksLike {
  positions: { x: number; y: number }[];
}

export interface FaceModels {
  tf: Tf;
  human: HumanLike;
  faceapi: FaceApiLike;
}

let loading: Promise<FaceModels> | undefined;

/** Reads a tfjs graph/layers model (model.json + shards) from disk for `file://` URLs. */
function registerFileLoader(tf: Tf): void {
  const router = (url: string | string[]) => {
    if (typeof url !== 'string' || !url.startsWith('file://')) return null;
    const path = url.slice('file://'.length);
    return {
      load: async () => {
        const json = JSON.parse(readFileSync(path, 'utf8'));
        const weightSpecs = [];
        const shards: Buffer[] = [];
        for (const group of json.weightsManifest) {
          weightSpecs.push(...group.weights);
          for (const file of group.paths) shards.push(readFileSync(join(dirname(path), file)));
        }
        const all = Buffer.concat(shards);
        return {
          modelTopology: json.modelTopology,
          format: json.format,
          generatedBy: json.generatedBy,
          convertedBy: json.convertedBy,
          userDefinedMetadata: json.userDefinedMetadata,
          signature: json.signature,
          weightSpecs,
          weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        };
      },
    };
  };
  tf.io.registerLoadRouter(router as unknown as Parameters<typeof tf.io.registerLoadRouter>[0]);
}

async function load(): Promise<FaceModels> {
  const tf = require('@tensorflow/tfjs-core') as Tf;
  const wasmDir = `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
  // human's package.json "exports" map lacks "./" prefixes, so its node-wasm build is loaded by path.
  const humanMain = require.resolve('@vladmandic/human');
  const { Human } = require(join(dirname(humanMain), 'human.node-wasm.js')) as {
    Human: new (config: object) => HumanLike;
  };
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiLike;
  registerFileLoader(tf);
  const human = new Human({
    backend: 'wasm',
    wasmPath: wasmDir,
    modelBasePath: `file://${dirname(dirname(humanMain))}/models/`,
    // By default every frame is analysed on its own (no frame skipping, no input-change caching);
    // face-tracking.ts allows human's box cache for single calls of a video's frame sequence.
    cacheSensitivity: 0,
    debug: false,
    filter: { enabled: false },
    face: {
      enabled: true,
      detector: {
        rotation: false,
        maxDetected: 10,
        skipFrames: 0,
        skipTime: 0,
        minConfidence: 0.5,
        iouThreshold: 0.3,
        return: false,
      },
      // The mesh with the iris model's eyelid contours follows blinks and jaw opening far better than
      // the 68-point net at 112×112; face-api then handles brows, lips and the expression.
      mesh: { enabled: true },
      iris: { enabled: true },
      emotion: { enabled: false },
      description: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      attention: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
  });
  await human.load();
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceExpressionNet.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
  return { tf, human, faceapi };
}

/** Loads the models once per process; later calls share them. */
export function loadFaceModels(): Promise<FaceModels> {
  loading ??= load().catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}
