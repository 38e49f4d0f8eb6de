// Worker-thread side of WorkerSession: owns one Session and answers its messages in order.
import { parentPort } from 'node:worker_threads';
import type { SerializedModel } from '@emoverse/onnx';
import type * as ort from 'onnxruntime-node';
import type { HostTensor, SessionOptions } from './session.js';
import { Session } from './session.js';
import type { StepOptions } from './worker-session.js';

let session: Session | undefined;

function host(t: ort.Tensor): HostTensor {
  return { dtype: t.type, dims: t.dims, data: t.data };
}

function hostAll(r: Record<string, ort.Tensor>): Record<string, HostTensor> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, host(v)]));
}

function allFinite(t: ort.Tensor): boolean {
  const d = t.data as ArrayLike<number>;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}

function need(): Session {
  if (!session) throw new Error('session not created');
  return session;
}

const methods: Record<string, (...args: never[]) => Promise<unknown>> = {
  async create(model: SerializedModel, opts: SessionOptions) {
    session = await Session.create(model, opts);
    return {
      ep: session.ep,
      probes: session.probes,
      inputNames: session.inputNames,
      outputNames: session.outputNames,
    };
  },
  async run(feeds: Record<string, HostTensor>, fetch?: string[]) {
    const out = await need().run(feeds, fetch);
    const cpu: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(out)) cpu[k] = await need().toCpu(v);
    return hostAll(cpu);
  },
  async setState(initial: Record<string, HostTensor>, carry: Record<string, string>) {
    need().setState(initial, carry);
  },
  async step(feeds: Record<string, HostTensor>, fetch: string[], opts: StepOptions) {
    let committed = true;
    const fetched = await need().step(feeds, fetch, (f) => {
      committed = (opts.requireFinite ?? []).every((n) => allFinite(f[n]));
      return committed;
    });
    return { fetched: hostAll(fetched), committed };
  },
  async stateLocations() {
    return need().stateLocations();
  },
  async readState(names?: string[]) {
    return need().readState(names);
  },
  async release() {
    await session?.release();
    session = undefined;
  },
};

parentPort?.on('message', async (msg: { id: number; method: string; args: never[] }) => {
  try {
    const value = await methods[msg.method](...msg.args);
    parentPort?.postMessage({ id: msg.id, ok: true, value });
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, ok: false, error: (err as Error).message });
  }
});
