// Runs built graphs through @emoverse/runtime's Session (EP selection, threads). Models default
// to the CPU EP; callers pass `ep` to use a GPU. Helpers make ORT tensors from plain arrays.
import { dirname } from 'node:path';
import { type GraphBuilder, toModelProto } from '@emoverse/onnx';
import { ort, Session, type SessionOptions } from '@emoverse/runtime';
import { graphFiles } from './weights.js';

export type Feeds = Record<string, ort.Tensor>;
export type { SessionOptions };

type Runner = Pick<Session, 'inputNames' | 'run' | 'release'>;

export class GraphSession {
  private constructor(readonly session: Runner) {}

  static async create(g: GraphBuilder, opts: SessionOptions = {}): Promise<GraphSession> {
    const files = graphFiles(g);
    if (files?.size) return new GraphSession(await fileBackedSession(g, files, opts));
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

/**
 * A graph whose weights stay in safetensors files: the model's external data names each shard
 * by its file name and ORT, told which folder holds them, reads every tensor straight from its
 * shard (nothing is copied into JS, nothing is written to disk). CPU EP unless one EP is named.
 */
async function fileBackedSession(
  g: GraphBuilder,
  files: Map<string, string>,
  opts: SessionOptions,
): Promise<Runner> {
  const folders = new Set([...files.values()].map((p) => dirname(p)));
  if (folders.size !== 1)
    throw new Error(`weights in files: shards must share one folder, got ${[...folders].join(', ')}`);
  const { model, externalData } = toModelProto(g, { externalDataThreshold: Number.POSITIVE_INFINITY });
  if (externalData.length) throw new Error('weights in files: in-memory initializers must stay inline');
  // one named EP is honoured (ORT reads the file weights, then places them on that device)
  const ep = typeof opts.ep === 'string' ? opts.ep : 'cpu';
  const so: ort.InferenceSession.SessionOptions = {
    executionProviders: [ep],
    logSeverityLevel: 3,
    extra: { session: { model_external_initializers_file_folder_path: [...folders][0] } },
  };
  if (opts.intraOpThreads !== undefined) so.intraOpNumThreads = opts.intraOpThreads;
  if (opts.graphOptimizationLevel) so.graphOptimizationLevel = opts.graphOptimizationLevel;
  const s = await ort.InferenceSession.create(model, so);
  return {
    inputNames: s.inputNames,
    run: (feeds, fetch) =>
      (fetch ? s.run(feeds as Feeds, [...fetch]) : s.run(feeds as Feeds)) as Promise<
        Record<string, ort.Tensor>
      >,
    release: () => s.release(),
  };
}

export { ort };

export function i64(data: readonly number[] | BigInt64Array, dims: number[]): ort.Tensor {
  const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
  return new ort.Tensor('int64', arr, dims);
}

export function f32(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}
