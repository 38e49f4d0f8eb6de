import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './cli-main.js';
import { sharedDir } from './testdata.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { log: (l: string) => out.push(l), error: (l: string) => err.push(l) }, out, err };
}

test('bad arguments exit with 2 and say why, before any work', async () => {
  for (const [args, why] of [
    [['--out', 'x', '--tasks', 'er,sentiment'], /unknown task\(s\): sentiment/],
    [['--out', 'x', '--bogus'], /Unknown option '--bogus'/],
    [[], /usage: emt:build/],
    [['--out', 'x', '--eri', 'openai'], /needs --eri-url/],
    [['--out', 'x', '--shard-size', '0'], /--shard-size a positive integer/],
  ] as const) {
    const c = capture();
    assert.equal(await runCli([...args], c.io), 2);
    assert.match(c.err.join('\n'), why);
  }
});

test('a one-task build prints counts per split and writes the manifest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emt-cli-'));
  try {
    const c = capture();
    const out = join(dir, 'emt');
    assert.equal(
      await runCli(['--shared', sharedDir(), '--out', out, '--tasks', 'er', '--no-ecf2'], c.io),
      0,
    );
    assert.match(c.out.join('\n'), /er {4}train 9923 {2}dev 1099 {2}test 2610/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).counts, {
      er: { train: 9923, dev: 1099, test: 2610 },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
