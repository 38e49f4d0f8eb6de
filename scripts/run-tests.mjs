#!/usr/bin/env node
// Runs every *.spec.ts under ./src (or the folders given) with Node's own test runner,
// TypeScript loaded by tsx and workspace packages resolved to their sources ("source" condition).
// Node 20's --test takes no globs, so the files are found here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
// A test that hangs (e.g. waiting on a server that never answers) fails after 10 minutes instead of
// stalling CI; pass --test-timeout=<ms> to choose another bound.
if (!passThrough.some((a) => a.startsWith('--test-timeout'))) passThrough.push('--test-timeout=600000');
const suffix = process.env.EMOVERSE_TEST_SUFFIX ?? '.spec.ts';
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(suffix)) files.push(path);
  }
}
for (const root of roots.length ? roots : ['src']) if (existsSync(root)) walk(root);
if (files.length === 0) {
  console.log(`no ${suffix} files under ${roots.join(' ') || 'src'}`);
  process.exit(0);
}
files.sort();
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--conditions=source', '--test', '--test-concurrency=1', ...passThrough, ...files],
  { stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } },
);
process.exit(result.status ?? 1);
