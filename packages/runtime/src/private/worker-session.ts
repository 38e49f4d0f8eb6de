// The same Session, living in a worker thread: ORT's session.run occupies the calling
// thread for the whole step, which would stall the event loop of a service (gRPC, NATS
// heartbeats). Messages carry plain HostTensors; carried state (parameters, optimizer
// moments) stays inside the worker, on the device where the EP allows it.
import { Worker } from 'node:worker_threads';
import type { GraphBuilder, SerializedModel } from '@emoverse/onnx';
import { toModelProto } from '@emoverse/onnx';
import type { EpName, EpProbe } from './ep.js';
import type { HostTensor, SessionOptions } from './session.js';

export interface StepOptions {
  /** Fetched outputs that must be all finite for the carried state to be updated. */
  requireFinite?: readonly string[];
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class WorkerSession {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  ep: EpName = 'cpu';
  probes: EpProbe[] = [];
  inputNames: readonly string[] = [];
  outputNames: readonly string[] = [];

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
    });
    worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  static async create(
    model: Uint8Array | SerializedModel | GraphBuilder,
    opts: SessionOptions = {},
  ): Promise<WorkerSession> {
    const s =
      model instanceof Uint8Array
        ? { model, externalData: [] }
        : 'nodes' in model
          ? toModelProto(model)
          : (model as SerializedModel);
    // Under tsx (tests, --conditions=source) the worker is the .ts source; built, the .js.
    const worker = spawnWorker();
    worker.unref();
    const ws = new WorkerSession(worker);
    const info = (await ws.call('create', [s, opts])) as {
      ep: EpName;
      probes: EpProbe[];
      inputNames: string[];
      outputNames: string[];
    };
    Object.assign(ws, info);
    return ws;
  }

  run(feeds: Record<string, HostTensor>, fetch?: readonly string[]): Promise<Record<string, HostTensor>> {
    return this.call('run', [feeds, fetch]) as Promise<Record<string, HostTensor>>;
  }

  setState(initial: Record<string, HostTensor>, carry: Record<string, string>): Promise<void> {
    return this.call('setState', [initial, carry]) as Promise<void>;
  }

  /** See Session.step; `committed` says whether the carried state was updated. */
  step(
    feeds: Record<string, HostTensor>,
    fetch: readonly string[],
    opts: StepOptions = {},
  ): Promise<{ fetched: Record<string, HostTensor>; committed: boolean }> {
    return this.call('step', [feeds, fetch, opts]) as Promise<{
      fetched: Record<string, HostTensor>;
      committed: boolean;
    }>;
  }

  stateLocations(): Promise<Record<string, string>> {
    return this.call('stateLocations', []) as Promise<Record<string, string>>;
  }

  readState(names?: readonly string[]): Promise<Record<string, HostTensor>> {
    return this.call('readState', [names]) as Promise<Record<string, HostTensor>>;
  }

  async release(): Promise<void> {
    try {
      await this.call('release', []);
    } finally {
      await this.worker.terminate();
    }
  }

  private call(method: string, args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, method, args });
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    });
  }
}

/**
 * Built, the worker is worker-main.js. Under tsx (tests, --conditions=source) it is the .ts
 * source, and a worker thread does not inherit tsx's loader, so a one-line bootstrap
 * registers tsx inside the worker first.
 */
function spawnWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker-main.js', import.meta.url));
  const main = new URL('./worker-main.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(main)}); });`;
  return new Worker(boot, { eval: true });
}
