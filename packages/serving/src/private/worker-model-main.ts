// Worker-thread side of WorkerTaskModel: owns one TaskModel and answers calls in arrival order.
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
      return need().generate(inputs, { ...options, onToken }, adapter);
    }
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

parentPort!.on('message', (call: Call) => {
  queue = queue.then(async () => {
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
  });
});
