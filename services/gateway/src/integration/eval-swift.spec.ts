// eval:swift end to end: the CLI reads the paper's ms-swift test format, calls a gateway process
// over gRPC, scores with @emoverse/metrics, reports missing media, and writes one answer per line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type NatsServer,
  repoRoot,
  type ServiceProcess,
  sharedDir,
  startNatsServer,
  startService,
} from '@emoverse/testing';

const samples = join(sharedDir(), 'data/m2se_format');
const tmp = mkdtempSync(join(tmpdir(), 'eval-swift-'));
let nats: NatsServer;
let gateway: ServiceProcess;

before(async () => {
  nats = await startNatsServer();
  gateway = await startService('gateway', {
    timeoutMs: 120_000,
    nats,
    env: {
      EMOVERSE_LOG_LEVEL: 'warn',
      EMOVERSE_MODEL_SEED: '1',
      EMOVERSE_NANO_CORPUS: `${join(samples, 'meld_dev_er_sample.json')},${join(samples, 'ecf_dev_ecpe_sample.json')}`,
      EMOVERSE_MODEL_CACHE: join(tmp, 'cache'),
    },
  });
});

after(async () => {
  await gateway?.stop();
  await nats?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function evalSwift(...args: string[]) {
  const r = spawnSync('npm', ['run', '--silent', 'eval:swift', '--', ...args], {
    cwd: repoRoot(),
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return r.stdout.trim().split('\n');
}

describe('npm run eval:swift', () => {
  it('scores the released ER format (JSON) and writes one answer per record', async () => {
    const out = join(tmp, 'er.jsonl');
    const lines = evalSwift(
      '--file',
      join(samples, 'meld_dev_er_sample.json'),
      '--gateway',
      gateway.grpcAddress,
      '--out',
      out,
    );
    assert.match(lines.at(-1)!, /^acc=(0|1)\.\d{4} wf1=(0|1)\.\d{4}$/);
    assert.ok(
      lines.some((l) => /missing media: 40 of 40 records/.test(l)),
      'the sample names videos that are not here',
    );
    assert.ok(lines.some((l) => l.includes('records: 40 (er 40, ecpe 0, failed 0)')));
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, 40);
    assert.deepEqual(Object.keys(rows[0]), ['index', 'task', 'gold', 'answer']);
    assert.equal(rows[0].gold, 'Sadness.');
    assert.ok(rows.every((r, i) => r.index === i && r.task === 'er' && /^[A-Z][a-z]+\.$/.test(r.answer)));
  });

  it('scores ECPE and ER records mixed in one JSONL file', async () => {
    const er = JSON.parse(readFileSync(join(samples, 'meld_dev_er_sample.json'), 'utf8')).slice(0, 4);
    const ecpe = JSON.parse(readFileSync(join(samples, 'ecf_dev_ecpe_sample.json'), 'utf8')).slice(0, 6);
    const file = join(tmp, 'mixed.jsonl');
    writeFileSync(file, `${[...er, ...ecpe].map((r) => JSON.stringify(r)).join('\n')}\n`);
    const out = join(tmp, 'mixed-out.jsonl');
    const lines = evalSwift('--file', file, '--gateway', gateway.grpcAddress, '--out', out);
    assert.match(lines.at(-1)!, /^acc=\d\.\d{4} wf1=\d\.\d{4} ecpe_f1=\d\.\d{4}$/);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      rows.map((r) => r.task),
      [...er.map(() => 'er'), ...ecpe.map(() => 'ecpe')],
    );
    assert.ok(rows.every((r) => typeof r.answer === 'string'));
  });
});
