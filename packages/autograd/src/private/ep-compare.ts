// Runs the same training steps of a small GPT on two execution providers and prints what
// they computed, as JSON: per-step loss and gradient norm, and the final parameters' largest
// difference. Started as a child process by webgpu.spec.ts, because the Vulkan driver
// (lavapipe) is found through LD_LIBRARY_PATH, which only a new process picks up.
import type { HostTensor } from '@emoverse/runtime';
import { rng } from './gradcheck.js';
import { adamw } from './optim.js';
import { gptForward, gptInitParams } from './reference-gpt.js';
import { buildTrainStep } from './train-step.js';
import { Trainer } from './trainer.js';

// Each run is an EP name, optionally with '+flat' (flat optimizer state), e.g. 'webgpu+flat'.
const runs = (process.argv[2] ?? 'cpu,webgpu').split(',');
const steps = Number(process.argv[3] ?? 3);
const cfg = { vocab: 32, dModel: 32, nLayers: 2, nHeads: 2, seq: 16, batch: 4 };

function batches(): Record<string, HostTensor>[] {
  const rand = rng(77);
  const n = cfg.batch * cfg.seq;
  const ids = () => BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rand() * cfg.vocab)));
  const dims = [cfg.batch, cfg.seq];
  return [...Array(steps)].map(() => ({
    tokens: { dtype: 'int64', dims, data: ids() },
    targets: { dtype: 'int64', dims, data: ids() },
  }));
}

const results: Record<
  string,
  { ep: string; loss: number[]; gradNorm: number[]; params: Record<string, number[]>; locations: string[] }
> = {};
for (const run of runs) {
  const [ep, variant] = run.split('+') as ['cpu' | 'webgpu' | 'cuda', string | undefined];
  const step = buildTrainStep({
    name: 'ep_compare',
    params: gptInitParams(cfg, 1),
    forward: gptForward(cfg),
    optimizer: adamw({ lr: 1e-3, weightDecay: 0.01 }),
    clipGradNorm: 1,
    flatOptimizerState: variant === 'flat',
  });
  const trainer = await Trainer.create(step, { ep: [ep] });
  const loss: number[] = [];
  const gradNorm: number[] = [];
  for (const b of batches()) {
    const r = await trainer.step(b);
    loss.push(r.loss);
    gradNorm.push(r.gradNorm);
  }
  const locations = [...new Set(Object.values(await trainer.stateLocations()))];
  const state = await trainer.state();
  const params = Object.fromEntries(
    Object.entries(state).map(([k, v]) => [k, Array.from(v.data as Float32Array)]),
  );
  results[run] = { ep: trainer.ep, loss, gradNorm, params, locations };
  await trainer.release();
}
process.stdout.write(`${JSON.stringify(results)}\n`);
