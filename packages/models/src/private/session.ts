// Runs built graphs through @emoverse/runtime's Session (EP selection, threads). Models default
// to the CPU EP; callers pass `ep` to use a GPU. Helpers make ORT tensors from plain arrays.
import type { GraphBuilder } from '@emoverse/onnx';
import { ort, Session, type SessionOptions } from '@emoverse/runtime';

export type Feeds = Record<string, ort.Tensor>;
export type { SessionOptions };

export class GraphSession {
  private constructor(readonly session: Session) {}

  static async create(g: GraphBuilder, opts: SessionOptions = {}): Promise<GraphSession> {
    return new GraphSession(await Session.create(g, { ep: 'cpu', ...opts }));
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  async run(feeds: Feeds, fetch?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    return this.session.run(feeds, fetch);
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
