// Specs of the ablation results tables (single-run and over seeds) and of their atomic file writes.
import assert from 'node:assert/strict';
import fs, { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import {
  meanSd,
  parseResultsTable,
  type ResultRow,
  renderResultsTable,
  renderSeededTable,
  type SeededRow,
  upsertResultRows,
  writeFileAtomic,
  writeResultRows,
} from './results-table.js';

const rows: ResultRow[] = [
  {
    name: 'm2se',
    kind: 'experiment',
    meldAcc: 0.41,
    meldWf1: 0.3333,
    acc2NegNonNeg: 0.6,
    acc2NegPos: 0.625,
    ecpeF1: 0.1,
  },
  { name: 'msa-only', kind: 'experiment', acc2NegNonNeg: 0.55, acc2NegPos: 0.5 },
  {
    name: 'majority class',
    kind: 'baseline',
    meldAcc: 0.4812,
    meldWf1: 0.3127,
    note: 'always "neutral" | "negative"',
  },
  { name: 'paper (4B, pretrained)', kind: 'reference', meldWf1: 0.6674 },
];

describe('results table', () => {
  it('renders percentages with baselines first and experiments in ablation order', () => {
    const md = renderResultsTable(rows, 'Ablation');
    const lines = md.split('\n');
    assert.equal(lines[0], '# Ablation');
    const body = lines.filter((l) => l.startsWith('| ') && !l.startsWith('| Run') && !l.startsWith('| ---'));
    assert.deepEqual(
      body.map((l) => l.split(' | ')[0].slice(2)),
      ['majority class', 'msa-only', 'm2se', 'paper (4B, pretrained)'],
    );
    assert.ok(md.includes('| m2se | experiment | 41.00 | 33.33 | 60.00 | 62.50 | 10.00 |'));
    assert.ok(md.includes('| msa-only | experiment | - | - | 55.00 | 50.00 | - |'));
  });

  it('reads back what it wrote, and each run replaces only its own row', () => {
    const md = renderResultsTable(rows);
    assert.deepEqual(
      parseResultsTable(md).sort((a, b) => a.name.localeCompare(b.name)),
      [...rows].sort((a, b) => a.name.localeCompare(b.name)),
    );
    const updated = upsertResultRows(md, [{ name: 'msa-only', kind: 'experiment', meldAcc: 0.2 }]);
    const back = parseResultsTable(updated);
    assert.equal(back.length, 4);
    assert.deepEqual(
      back.find((r) => r.name === 'msa-only'),
      { name: 'msa-only', kind: 'experiment', meldAcc: 0.2 },
    );
    assert.equal(back.find((r) => r.name === 'm2se')?.meldWf1, 0.3333);
    assert.equal(parseResultsTable(upsertResultRows(undefined, [rows[0]])).length, 1);
  });

  it('rejects values that are not fractions', () => {
    assert.throws(
      () => renderResultsTable([{ name: 'x', kind: 'experiment', meldAcc: 66.7 }]),
      /x \/ MELD Acc: 66\.7 is not a fraction/,
    );
  });

  it('writes rows into a table file, one run at a time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    try {
      const path = join(dir, 'results', 'ablation.md');
      writeResultRows(path, [rows[0]], 'Ablation');
      writeResultRows(path, [rows[2]], 'Ablation');
      const text = readFileSync(path, 'utf8');
      assert.deepEqual(
        parseResultsTable(text).map((r) => r.name),
        ['majority class', 'm2se'],
      );
      assert.match(text, /^# Ablation/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const seeded: SeededRow[] = [
  {
    name: 'm2se',
    kind: 'experiment',
    seeds: 3,
    metrics: { meldWf1: { mean: 0.56123, sd: 0.00834 }, ecpeF1: { mean: 0.1, sd: 0 } },
  },
  { name: 'msa-only', kind: 'experiment', seeds: 3, metrics: { acc2NegPos: { mean: 0.7, sd: 0.012 } } },
  {
    name: 'majority class',
    kind: 'baseline',
    seeds: 1,
    metrics: { meldWf1: { mean: 0.3127, low: 0.2999, high: 0.3251 } },
    note: 'always "neutral"',
  },
  { name: 'paper (4B)', kind: 'reference', seeds: 0, metrics: { meldWf1: { mean: 0.6674 } } },
];

function bodyRows(md: string): string[] {
  return md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Run') && !l.startsWith('| ---'));
}

/** Runs `body` with fs's writeFileSync and renameSync spied on (or replaced), for the ESM imports too. */
function withFsSpies<T>(
  body: (calls: { write: string[]; rename: [string, string][] }) => T,
  writeImpl?: (path: string, text: string) => void,
): T {
  const calls = { write: [] as string[], rename: [] as [string, string][] };
  const write = fs.writeFileSync;
  const rename = fs.renameSync;
  mock.method(fs, 'writeFileSync', (path: string, text: string) => {
    calls.write.push(path);
    (writeImpl ?? write)(path, text);
  });
  mock.method(fs, 'renameSync', (from: string, to: string) => {
    calls.rename.push([from, to]);
    rename(from, to);
  });
  syncBuiltinESMExports();
  try {
    return body(calls);
  } finally {
    mock.restoreAll();
    syncBuiltinESMExports();
  }
}

describe('seeded results table', () => {
  it('prints means over seeds as "mean ± sd", single runs as "mean [low, high]", and "-" when absent', () => {
    const md = renderSeededTable(seeded, { title: 'Ablation', commit: 'abc1234' });
    assert.deepEqual(bodyRows(md), [
      '| majority class | baseline | 1 | - | 31.27 [29.99, 32.51] | - | - | - | always "neutral" |',
      '| msa-only | experiment | 3 | - | - | - | 70.00 ± 1.20 | - |  |',
      '| m2se | experiment | 3 | - | 56.12 ± 0.83 | - | - | 10.00 ± 0.00 |  |',
      '| paper (4B) | reference | - | - | 66.74 | - | - | - |  |',
    ]);
    assert.ok(md.includes('| Run | Kind | Seeds | MELD Acc | MELD WF1 |'));
  });

  it('names the commit, the number of seeds and the full test sets in the header, and lists notes below', () => {
    const md = renderSeededTable(seeded, { title: 'Ablation', commit: 'abc1234', notes: ['ECPE: pair F1.'] });
    const [title, , header] = md.split('\n');
    assert.equal(title, '# Ablation');
    assert.match(header, /Commit `abc1234`/);
    assert.match(header, /over 3 seeds/);
    assert.match(header, /All numbers are on the full test sets/);
    assert.match(md, /\|\n\n- ECPE: pair F1\.\n$/);
    const mixed = renderSeededTable([...seeded, { ...seeded[0], name: 'er-only', seeds: 2 }], {
      title: 'x',
      commit: 'c',
    });
    assert.match(mixed, /over 2-3 seeds/);
  });

  it('rejects values outside [0, 1] and half intervals, naming the row and the column', () => {
    const row = (metrics: SeededRow['metrics']): SeededRow[] => [
      { name: 'er-only', kind: 'experiment', seeds: 3, metrics },
    ];
    const render = (r: SeededRow[]) => () => renderSeededTable(r, { title: 't', commit: 'c' });
    assert.throws(
      render(row({ meldAcc: { mean: 56.1 } })),
      /er-only \/ MELD Acc: mean 56\.1 is not a fraction/,
    );
    assert.throws(render(row({ ecpeF1: { mean: 0.5, sd: -0.1 } })), /er-only \/ ECPE F1: sd -0\.1/);
    assert.throws(
      render(row({ meldWf1: { mean: 0.5, low: 0.4, high: 1.2 } })),
      /er-only \/ MELD WF1: high 1\.2/,
    );
    assert.throws(
      render(row({ acc2NegPos: { mean: 0.5, low: 0.4 } })),
      /er-only \/ Acc-2 \(neg \/ pos\): give both/,
    );
    assert.throws(render(row({ meldWf1: { mean: 0.5, low: 0.6, high: 0.7 } })), /outside \[0\.6, 0\.7\]/);
    assert.throws(render([{ ...seeded[0], seeds: 1.5 }]), /m2se: seeds 1\.5/);
  });
});

describe('mean and sd', () => {
  it('gives the mean and the sample sd (n - 1), and no sd for fewer than two values', () => {
    const { mean, sd } = meanSd([0.5, 0.6, 0.7]);
    assert.ok(Math.abs(mean - 0.6) < 1e-12);
    assert.ok(Math.abs(sd! - 0.1) < 1e-12);
    assert.deepEqual(meanSd([0.42]), { mean: 0.42 });
    assert.equal(meanSd([0.3, 0.3]).sd, 0);
    assert.throws(() => meanSd([]), /no values/);
    assert.throws(() => meanSd([0.1, Number.NaN]), /not all values are finite/);
  });
});

describe('atomic writes', () => {
  it('writes a temp file beside the target and renames it over the old file, never writing in place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    try {
      const path = join(dir, 'sub', 'table.md');
      const tmp = `${path}.tmp-${process.pid}`;
      withFsSpies((calls) => {
        writeFileAtomic(path, 'first\n');
        writeResultRows(path, [rows[0]], 'Ablation');
        assert.deepEqual(calls.write, [tmp, tmp]);
        assert.deepEqual(calls.rename, [
          [tmp, path],
          [tmp, path],
        ]);
      });
      assert.match(readFileSync(path, 'utf8'), /^# Ablation/);
      assert.deepEqual(readdirSync(join(dir, 'sub')), ['table.md']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves the old file whole and no temp file behind when a write is interrupted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    try {
      const path = join(dir, 'table.md');
      writeFileSync(path, 'old table\n');
      const halfThenCrash = (p: string, text: string) => {
        const fd = fs.openSync(p, 'w');
        fs.writeSync(fd, text.slice(0, text.length / 2));
        fs.closeSync(fd);
        throw new Error('ENOSPC: no space left on device');
      };
      withFsSpies((calls) => {
        assert.throws(() => writeResultRows(path, rows, 'Ablation'), /ENOSPC/);
        assert.deepEqual(calls.write, [`${path}.tmp-${process.pid}`]);
        assert.deepEqual(calls.rename, []);
      }, halfThenCrash);
      assert.equal(readFileSync(path, 'utf8'), 'old table\n');
      assert.ok(!existsSync(`${path}.tmp-${process.pid}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
