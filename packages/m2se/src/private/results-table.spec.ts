import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  parseResultsTable,
  type ResultRow,
  renderResultsTable,
  upsertResultRows,
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
