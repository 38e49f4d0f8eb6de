// Dev check of the bag-of-words baseline on MELD text: trains on train, prints test ER accuracy / weighted F1,
// 3-way sentiment accuracy and Acc-2 (negative vs non-negative). Run from the repository root:
//   node --import tsx --conditions=source packages/metrics/scripts/bow-meld.ts <shared dir> [--max-iter N] [--c C]
// scikit-learn with the same configuration (TF-IDF word 1–2 + char_wb 2–5, C=4) gets ER Acc 60.2, WF1 56.5,
// sentiment Acc 64.0, Acc-2 72.7.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  classificationReport,
  erScores,
  MELD_EMOTIONS,
  type MeldEmotion,
  msaScores,
  SENTIMENTS,
  type Sentiment,
  sentimentScore,
  trainBowClassifier,
} from '@emoverse/metrics';

/** RFC 4180 CSV: quoted fields may hold commas, line breaks and doubled quotes; CRLF or LF row ends. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

interface MeldRow {
  utterance: string;
  emotion: MeldEmotion;
  sentiment: Sentiment;
}

function readMeld(shared: string, split: 'train' | 'dev' | 'test'): MeldRow[] {
  const [header, ...rows] = parseCsv(
    readFileSync(join(shared, 'data', 'meld', `${split}_sent_emo.csv`), 'utf8'),
  );
  const col = (name: string) => {
    const c = header.indexOf(name);
    if (c < 0) throw new Error(`${split}: no column ${name}`);
    return c;
  };
  const [u, e, s] = [col('Utterance'), col('Emotion'), col('Sentiment')];
  return rows.map((r, i) => {
    const emotion = r[e] as MeldEmotion;
    const sentiment = r[s] as Sentiment;
    if (!MELD_EMOTIONS.includes(emotion) || !SENTIMENTS.includes(sentiment)) {
      throw new Error(`${split} row ${i + 2}: unexpected labels ${r[e]} / ${r[s]}`);
    }
    return { utterance: r[u], emotion, sentiment };
  });
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'max-iter': { type: 'string' }, c: { type: 'string' } },
});
if (positionals.length !== 1) {
  console.error('usage: bow-meld.ts <shared dir> [--max-iter N] [--c C]');
  process.exit(2);
}
const options = {
  ...(values['max-iter'] ? { maxIter: Number(values['max-iter']) } : {}),
  ...(values.c ? { C: Number(values.c) } : {}),
};
const train = readMeld(positionals[0], 'train');
const test = readMeld(positionals[0], 'test');
console.log(`MELD train ${train.length}, test ${test.length} utterances`);
const texts = train.map((r) => r.utterance);
const testTexts = test.map((r) => r.utterance);

/** Runs f, printing wall and CPU seconds (they differ when other work shares the cores). */
function timed<T>(what: string, f: () => T): T {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const out = f();
  const used = process.cpuUsage(cpu);
  const wall = (performance.now() - start) / 1000;
  console.log(`${what}: ${wall.toFixed(1)} s wall, ${((used.user + used.system) / 1e6).toFixed(1)} s CPU`);
  return out;
}
const pct = (x: number) => (100 * x).toFixed(1);

const er = timed('train ER', () =>
  trainBowClassifier(
    texts,
    train.map((r) => r.emotion),
    options,
  ),
);
const t = er.training;
console.log(`  ${t.features} features, ${t.iterations} iterations, converged ${t.converged}`);
const erReport = erScores(
  er.predict(testTexts),
  test.map((r) => r.emotion),
);
console.log(
  `ER test: Acc ${pct(erReport.accuracy)}  WF1 ${pct(erReport.weightedF1)}  (sklearn: 60.2 / 56.5)`,
);

const msa = timed('train sentiment', () =>
  trainBowClassifier(
    texts,
    train.map((r) => r.sentiment),
    options,
  ),
);
console.log(`  ${msa.training.iterations} iterations, converged ${msa.training.converged}`);
const predicted = msa.predict(testTexts);
const gold = test.map((r) => r.sentiment);
const three = classificationReport(predicted, gold, SENTIMENTS);
const acc2 = msaScores(predicted.map(sentimentScore), gold.map(sentimentScore)).nonNegative;
console.log(
  `Sentiment test: 3-way Acc ${pct(three.accuracy)}  Acc-2 (neg vs non-neg) ${pct(acc2.accuracy)}  (sklearn: 64.0 / 72.7)`,
);
