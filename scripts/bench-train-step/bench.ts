// npm run bench:train-step [-- --ep cpu|webgpu|cuda] [--preset small|100m] [--steps N] [--threads N]
//                             [--state flat|per-param]
//
// Times one training step (forward + cross-entropy + backward + clip + AdamW) of a pre-LN GPT
// decoder on ONNX Runtime through @emoverse/autograd, and the same model's step in PyTorch
// eager, in the same run. 'small' is the issue's 4-layer d=256 decoder at batch 16 × 128
// tokens (3.3M parameters); '100m' is a 12-layer d=768 model (~110M parameters) for GPUs.
// Both sides use the same thread count; the peer runs without the OPENBLAS_* kernel overrides a
// machine may export (see peerEnv) and prints the BLAS kernel it used. To be fair on a shared
// machine the ORT steps are timed in two rounds, before and after PyTorch's, and each side reports
// its median step.
// On CPU it also prints the model FLOPs achieved as a fraction of ORT MatMul's measured peak.
// The last line is `ort_vs_pytorch_cpu_ratio=<ORT tokens/s ÷ PyTorch tokens/s>` (CPU), or
// `ort_<ep>_vs_pytorch_cuda_ratio=...` with a GPU EP. The CPU peer is Debian's python3-torch
// (installed with apt when missing); a GPU run needs a CUDA build of PyTorch, named by
// BENCH_PYTHON, and the EP's own setup (for WebGPU: libvulkan1 and the NVIDIA Vulkan ICD).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { GptConfig, Trainer as TrainerT } from '@emoverse/autograd';
import { adamw, buildTrainStep, gptForward, gptInitParams, Trainer } from '@emoverse/autograd';
import { GraphBuilder } from '@emoverse/onnx';
import { type EpName, type HostTensor, Session } from '@emoverse/runtime';

const { values: args } = parseArgs({
  options: {
    ep: { type: 'string', default: 'cpu' },
    preset: { type: 'string' },
    steps: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string' },
    spin: { type: 'boolean', default: false },
    // 'flat' (default): AdamW state as one vector per slot, one update chain instead of one per tensor.
    state: { type: 'string' },
    'torch-dtype': { type: 'string', default: 'tf32' },
    'skip-torch': { type: 'boolean', default: false },
  },
});
const ep = args.ep as EpName;
if (!['cpu', 'webgpu', 'cuda'].includes(ep)) throw new Error(`--ep must be cpu, webgpu or cuda, not ${ep}`);
const preset = args.preset ?? (ep === 'cpu' ? 'small' : '100m');
const PRESETS: Record<string, GptConfig> = {
  small: { vocab: 512, dModel: 256, nLayers: 4, nHeads: 4, seq: 128, batch: 16 },
  '100m': { vocab: 32000, dModel: 768, nLayers: 12, nHeads: 12, seq: 256, batch: 16 },
};
const cfg = PRESETS[preset];
if (!cfg) throw new Error(`unknown preset ${preset}`);
const steps = Number(args.steps ?? (ep === 'cpu' ? 6 : 20));
const warmup = Number(args.warmup);
const threads = Number(args.threads ?? availableParallelism());
const tokensPerStep = cfg.batch * cfg.seq;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function makeTrainer(): Promise<{
  trainer: TrainerT;
  batch: Record<string, HostTensor>;
  nParams: number;
}> {
  const params = gptInitParams(cfg, 0);
  const nParams = Object.values(params).reduce((s, p) => s + p.data.length, 0);
  const step = buildTrainStep({
    name: `gpt_${preset}`,
    params,
    forward: gptForward(cfg),
    optimizer: adamw({ lr: 3e-4, weightDecay: 0.01 }),
    clipGradNorm: 1,
    flatOptimizerState: (args.state ?? 'flat') === 'flat',
  });
  console.log(
    `model: ${preset} ${JSON.stringify(cfg)}, ${(nParams / 1e6).toFixed(2)}M parameters, ${step.graph.nodes.length} nodes, ${step.stateNames.length} optimizer-state tensors`,
  );
  const trainer = await Trainer.create(step, {
    ep: [ep],
    intraOpThreads: ep === 'cpu' ? threads : undefined,
    allowSpinning: args.spin,
  });
  const n = cfg.batch * cfg.seq;
  let s = 12345;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const ids = () => BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rand() * cfg.vocab)));
  const dims = [cfg.batch, cfg.seq];
  const batch: Record<string, HostTensor> = {
    tokens: { dtype: 'int64', dims, data: ids() },
    targets: { dtype: 'int64', dims, data: ids() },
  };
  for (let i = 0; i < warmup; i++) await trainer.step(batch);
  return { trainer, batch, nParams };
}

async function timeOrt(trainer: TrainerT, batch: Record<string, HostTensor>, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await trainer.step(batch);
    times.push(performance.now() - t0);
  }
  return times;
}

/**
 * FLOPs of one training step: 6 per parameter per token (forward 2, backward 4) plus attention's
 * 12 · layers · seq · d per token (PaLM's model-FLOPs count, appendix B); the optimizer is not counted.
 */
function stepFlops(nParams: number): number {
  return tokensPerStep * (6 * nParams + 12 * cfg.nLayers * cfg.seq * cfg.dModel);
}

/**
 * The machine's practical peak for this run: GFLOP/s of ORT's own fp32 MatMul on 2048 × 2048
 * matrices with the same threads, the fastest of 10 runs, measured in this process.
 */
async function matmulPeak(): Promise<number> {
  const n = 2048;
  const g = new GraphBuilder('peak');
  g.output(g.matmul(g.input('a', 'float32', [n, n]), g.input('b', 'float32', [n, n])), 'c');
  const session = await Session.create(g, { ep: 'cpu', intraOpThreads: threads });
  const m: HostTensor = {
    dtype: 'float32',
    dims: [n, n],
    data: Float32Array.from({ length: n * n }, (_, i) => (i % 7) / 7),
  };
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await session.run({ a: m, b: m });
    times.push(performance.now() - t0);
  }
  await session.release();
  return (2 * n ** 3) / (Math.min(...times) / 1000) / 1e9;
}

function python(): string {
  if (process.env.BENCH_PYTHON) return process.env.BENCH_PYTHON;
  // Debian's python3-torch lives in the system interpreter, which a pyenv shim may hide.
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function ensureTorch(): void {
  if (spawnSync(python(), ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return;
  console.log(
    'PyTorch is missing: installing Debian python3-torch (and OpenBLAS, which it recommends) with apt',
  );
  spawnSync('apt-cache', ['policy', 'python3-torch'], { stdio: 'inherit' });
  const root = process.getuid?.() === 0;
  const run = (argv: string[]) =>
    spawnSync(root ? argv[0] : 'sudo', root ? argv.slice(1) : argv, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  run(['apt-get', 'update', '-qq']);
  const r = run([
    'apt-get',
    '-o',
    'DPkg::Lock::Timeout=600',
    'install',
    '-y',
    '-qq',
    '--no-install-recommends',
    'python3-torch',
    'libopenblas0',
  ]);
  if (r.status !== 0) throw new Error('could not install python3-torch');
}

interface TorchResult {
  tokens_per_s: number;
  step_ms: number;
  min_step_ms: number;
  loss: number;
  threads: number;
  torch: string;
  params: number;
  /** the BLAS library and CPU kernel the peer used (threadpoolctl), e.g. "openblas Cooperlake" */
  blas: string;
}

/**
 * The peer's environment: ours without OpenBLAS's kernel overrides. A machine may export
 * OPENBLAS_CORETYPE (e.g. Haswell) and OPENBLAS_L2_SIZE, which make Debian's OpenBLAS run AVX2
 * kernels on an AVX-512 CPU, 1.3-1.5x slower than the kernel it picks itself. They are removed for
 * the peer's process only; tests and CI never see this.
 */
function peerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

function benchTorch(device: 'cpu' | 'cuda'): TorchResult {
  ensureTorch();
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_step.py');
  const conf = {
    ...cfg,
    device,
    dtype: args['torch-dtype'],
    steps,
    warmup,
    threads: device === 'cpu' ? threads : 0,
  };
  const r = spawnSync(python(), [script, JSON.stringify(conf)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: peerEnv(),
  });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0) {
    const why = last.startsWith('{') ? (JSON.parse(last) as { error?: string }).error : undefined;
    throw new Error(`PyTorch step failed: ${why ?? r.stderr}`);
  }
  return JSON.parse(last);
}

const { trainer, batch, nParams } = await makeTrainer();
const half = Math.ceil(steps / 2);
const ortTimes = await timeOrt(trainer, batch, half);
const device = ep === 'cpu' ? 'cpu' : 'cuda';
const torch = args['skip-torch'] ? undefined : benchTorch(device);
ortTimes.push(...(await timeOrt(trainer, batch, steps - half)));
const usedEp = trainer.ep;
await trainer.release();
const ortMs = median(ortTimes);
if (ep === 'cpu') {
  const achieved = stepFlops(nParams) / (ortMs / 1000) / 1e9;
  const peak = await matmulPeak();
  console.log(
    `model FLOPs: ${(stepFlops(nParams) / 1e9).toFixed(1)} GFLOP/step -> ${achieved.toFixed(1)} GFLOP/s; ` +
      `ORT MatMul 2048^3 on ${threads} threads: ${peak.toFixed(1)} GFLOP/s; fraction of peak ${(achieved / peak).toFixed(3)}`,
  );
}
console.log(
  `onnxruntime ${usedEp} (${ep === 'cpu' ? `${threads} threads` : 'gpu'}): median ${ortMs.toFixed(1)} ms/step ` +
    `(min ${Math.min(...ortTimes).toFixed(1)}), ${((tokensPerStep * 1000) / ortMs).toFixed(0)} tokens/s`,
);
if (torch) {
  console.log(
    `pytorch ${torch.torch} eager ${device}${device === 'cuda' ? ` (${args['torch-dtype']})` : ` (${torch.threads} threads)`}: ` +
      `median ${torch.step_ms.toFixed(1)} ms/step (min ${torch.min_step_ms.toFixed(1)}), ${torch.tokens_per_s.toFixed(0)} tokens/s ` +
      `(${(torch.params / 1e6).toFixed(2)}M parameters, BLAS: ${torch.blas})`,
  );
  const ratio = (tokensPerStep * 1000) / ortMs / torch.tokens_per_s;
  console.log(
    ep === 'cpu'
      ? `ort_vs_pytorch_cpu_ratio=${ratio.toFixed(3)}`
      : `ort_${ep}_vs_pytorch_cuda_ratio=${ratio.toFixed(3)}`,
  );
}
