// The GPU code path without a GPU: ORT's WebGPU EP on Mesa's lavapipe (software Vulkan).
// scripts/setup-lavapipe.sh fetches lavapipe into a cache when it is missing (it does not
// skip), and the comparison runs in a child process that sees the driver's environment.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../../../..');

interface EpRun {
  ep: string;
  loss: number[];
  gradNorm: number[];
  params: Record<string, number[]>;
  locations: string[];
}

test('a training step on the WebGPU EP (lavapipe) matches the CPU EP within 1e-5 (the README claims 6.8e-6)', {
  timeout: 600_000,
}, () => {
  const setup = spawnSync('bash', [join(repo, 'scripts/setup-lavapipe.sh'), '--env-file'], {
    encoding: 'utf8',
  });
  assert.equal(setup.status, 0, `setup-lavapipe.sh failed:\n${setup.stderr}`);
  const envFile = setup.stdout.trim();
  const child = spawnSync(
    'bash',
    [
      '-c',
      `source "${envFile}" && exec "${process.execPath}" --import tsx --conditions=source "${join(here, 'ep-compare.ts')}" cpu,webgpu,webgpu+flat 3`,
    ],
    { encoding: 'utf8', cwd: join(here, '../..'), timeout: 540_000, maxBuffer: 1 << 26 },
  );
  assert.equal(
    child.status,
    0,
    `ep-compare failed (${child.signal ?? child.status}):\n${child.stderr.slice(-4000)}`,
  );
  const runs = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, EpRun>;
  const cpu = runs.cpu;
  assert.deepEqual(cpu.locations, ['cpu']);
  let maxDiff = 0;
  for (const gpu of [runs.webgpu, runs['webgpu+flat']]) {
    assert.equal(gpu.ep, 'webgpu');
    // Parameters and AdamW moments stayed on the device between steps.
    assert.deepEqual(gpu.locations, ['gpu-buffer']);
    cpu.loss.forEach((l, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(l - gpu.loss[i]), Math.abs(cpu.gradNorm[i] - gpu.gradNorm[i]));
    });
    for (const [name, values] of Object.entries(cpu.params)) {
      const other = gpu.params[name];
      assert.equal(other.length, values.length, name);
      for (let i = 0; i < values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(values[i] - other[i]));
    }
  }
  console.log(
    `WebGPU (per-parameter and flat optimizer state) vs CPU after 3 AdamW steps: largest difference ${maxDiff.toExponential(2)}`,
  );
  assert.ok(maxDiff < 1e-5, `WebGPU and CPU differ by ${maxDiff}`);
});
