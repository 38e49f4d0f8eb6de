// Worker-thread side of WorkerTaskModel: owns one TaskModel and answers calls in arrival order;
// generate calls (and the stats) skip the queue, since the model batches them itself.
import { parentPort } from 'node:worker_threads';
import { isServingError } from './errors.js';
import type { GenerateOptions, TaskModel } from './task-model.js';

let model: TaskModel | undefined;
let queue: Promise<unknown> = Promise.resolve();

interface Call {
  id: number;
  method: string;
  args: unknown[];
  stream: boolean;
}

/** Aborts the generate calls in flight, by call id. */
const cancels = new Map<number, AbortController>();

/** Calls that must not wait behind a running one. */
const UNQUEUED = new Set(['generate', 'generationStats']);

function need(): TaskModel {
  if (!model) throw new Error('the model is not initialised');
  return model;
}

async function handle({ id, method, args, stream }: Call): Promise<unknown> {
  switch (method) {
    case 'init': {
      const [moduleUrl, options] = args as [string, unknown];
      const mod = (await import(moduleUrl)) as { createTaskModel?: (o: unknown) => Promise<TaskModel> };
      if (typeof mod.createTaskModel !== 'function')
        throw new Error(`${moduleUrl} exports no createTaskModel`);
      model = await mod.createTaskModel(options);
      return true;
    }
    case 'scoreAnswers':
      return need().scoreAnswers(...(args as Parameters<TaskModel['scoreAnswers']>));
    case 'generate': {
      const [inputs, options, adapter] = args as Parameters<TaskModel['generate']>;
      const onToken: GenerateOptions['onToken'] = stream
        ? (index, piece) => parentPort!.postMessage({ id, token: { index, piece } })
        : undefined;
      const ac = new AbortController();
      cancels.set(id, ac);
      try {
        return await need().generate(inputs, { ...options, onToken, signal: ac.signal }, adapter);
      } finally {
        cancels.delete(id);
      }
    }
    case 'generationStats':
      return (await need().generationStats?.()) ?? null;
    case 'loadAdapter':
      return need().loadAdapter(args[0] as string);
    case 'unloadAdapter':
      return need().unloadAdapter(args[0] as string);
    case 'dispose':
      await model?.dispose();
      model = undefined;
      return true;
    default:
      throw new Error(`unknown method ${method}`);
  }
}

async function answer(call: Call): Promise<void> {
  try {
    parentPort!.postMessage({ id: call.id, ok: true, value: await handle(call) });
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({
      id: call.id,
      ok: false,
      error: err?.message ?? String(e),
      code: isServingError(e) ? e.code : undefined,
    });
  }
}

parentPort!.on('message', (msg: Call | { cancel: number }) => {
  if ('cancel' in msg) {
    cancels.get(msg.cancel)?.abort();
    return;
  }
  if (UNQUEUED.has(msg.method)) {
    // after the calls already queued (init, adapter loads), but not behind later ones
    void queue.then(() => answer(msg));
    return;
  }
  queue = queue.then(() => answer(msg));
});
