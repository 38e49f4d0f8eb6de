// Runs a built graph with onnxruntime-node. Small graphs go to ORT as bytes; graphs with big
// weights are written to a temporary folder as model.onnx + external data and loaded by path,
// so protobuf's 2 GB limit never applies.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GraphBuilder, toModelProto } from '@emoverse/onnx';
import * as ort from 'onnxruntime-node';

export type Feeds = Record<string, ort.Tensor>;

export interface SessionOptions {
  intraOpThreads?: number;
  /** ORT graph optimisation level; 'all' by default */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export class GraphSession {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  static async create(g: GraphBuilder, opts: SessionOptions = {}): Promise<GraphSession> {
    const { model, externalData } = toModelProto(g, { externalDataThreshold: 64 << 20 });
    const so: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: opts.optimization ?? 'all',
      intraOpNumThreads: opts.intraOpThreads ?? 0,
    };
    let session: ort.InferenceSession;
    if (externalData.length === 0) {
      session = await ort.InferenceSession.create(model, so);
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'emoverse-onnx-'));
      try {
        writeFileSync(join(dir, 'model.onnx'), model);
        for (const e of externalData) writeFileSync(join(dir, e.path), e.data);
        session = await ort.InferenceSession.create(join(dir, 'model.onnx'), so);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return new GraphSession(session, session.inputNames, session.outputNames);
  }

  async run(feeds: Feeds): Promise<Record<string, ort.Tensor>> {
    const out = await this.session.run(feeds);
    return out as Record<string, ort.Tensor>;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export { ort };

export function i64(data: readonly number[] | BigInt64Array, dims: number[]): ort.Tensor {
  const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
  return new ort.Tensor('int64', arr, dims);
}

export function f32(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}
