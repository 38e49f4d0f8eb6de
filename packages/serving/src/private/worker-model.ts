// A TaskModel that lives in a worker thread. ONNX Runtime's session.run occupies the thread it runs
// on for the whole forward pass; in the gateway's main thread that would stall gRPC and NATS. So
// the model is loaded once, inside a worker, from a module that exports
// `createTaskModel(options): Promise<TaskModel>`, and every call is a message. Calls run in the
// worker one at a time, in order, except generation: generate calls go straight to the model,
// whose decode loop interleaves them step by step (continuous batching); generated pieces stream
// back as they are produced, and a cancel message stops a call's sequences at the next step.

import { Worker } from 'node:worker_threads';
import { ServingError, type ServingErrorCode } from './errors.js';
import type { GenerateOptions, Generation, GenerationStats, ModelInput, TaskModel } from './task-model.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onToken?: (index: number, piece: string) => void;
}

type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string; code?: ServingErrorCode }
  | { id: number; token: { index: number; piece: string } };

function spawn(): Worker {
  // Under tsx (tests, --conditions=source) the worker runs the .ts source; once built, the .js.
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker-model-main.js', import.meta.url));
  const main = new URL('./worker-model-main.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(main)}); });`;
  return new Worker(boot, { eval: true });
}

export class WorkerTaskModel implements TaskModel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: Reply) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      if ('token' in msg) {
        p.onToken?.(msg.token.index, msg.token.piece);
        return;
      }
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(msg.code ? new ServingError(msg.code, msg.error) : new Error(msg.error));
    });
    const failAll = (e: Error) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) =>
      failAll(new ServingError('UNAVAILABLE', `the model worker exited (code ${code})`)),
    );
  }

  /**
   * Starts a worker, imports `moduleUrl` there and awaits its `createTaskModel(options)`.
   * `options` must be structured-cloneable (plain data: paths, numbers).
   */
  static async start(moduleUrl: string, options: unknown): Promise<WorkerTaskModel> {
    const m = new WorkerTaskModel(spawn());
    try {
      await m.call('init', [moduleUrl, options]);
    } catch (e) {
      await m.worker.terminate();
      throw e;
    }
    return m;
  }

  scoreAnswers(inputs: ModelInput[], answers: string[], adapter?: string): Promise<number[][]> {
    return this.call('scoreAnswers', [inputs, answers, adapter]) as Promise<number[][]>;
  }

  /** A cancelled call (options.signal) is told to the worker, whose decode loop drops it at the next step. */
  generate(inputs: ModelInput[], options: GenerateOptions, adapter?: string): Promise<Generation[]> {
    const { onToken, signal, ...plain } = options;
    const id = this.nextId;
    const cancel = () => this.worker.postMessage({ cancel: id });
    signal?.addEventListener('abort', cancel, { once: true });
    const out = this.call('generate', [inputs, plain, adapter], onToken) as Promise<Generation[]>;
    return out.finally(() => signal?.removeEventListener('abort', cancel));
  }

  generationStats(): Promise<GenerationStats> {
    return this.call('generationStats', []) as Promise<GenerationStats>;
  }

  loadAdapter(name: string): Promise<boolean> {
    return this.call('loadAdapter', [name]) as Promise<boolean>;
  }

  unloadAdapter(name: string): Promise<void> {
    return this.call('unloadAdapter', [name]) as Promise<void>;
  }

  async dispose(): Promise<void> {
    if (this.exited) return;
    try {
      await this.call('dispose', []);
    } finally {
      await this.worker.terminate();
    }
  }

  private call(method: string, args: unknown[], onToken?: Pending['onToken']): Promise<unknown> {
    if (this.exited) return Promise.reject(new ServingError('UNAVAILABLE', 'the model worker has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onToken });
      this.worker.postMessage({ id, method, args, stream: onToken !== undefined });
    });
  }
}
