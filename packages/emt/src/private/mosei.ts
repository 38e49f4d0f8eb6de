// MOSEI-format loader for user-supplied files (CMU-MOSEI text is not shipped here): one segment per row,
// CSV with a header (segment_id|id, text, score|label, optional split) or JSONL with the same keys.
// Score is the sentiment intensity in [-3, 3]; its sign gives the 3-way label.
import { readFileSync } from 'node:fs';
import { parseCsv } from './csv.js';
import { cleanText } from './text.js';
import { type LoadIssue, type SourceUtterance, SPLITS, type Split } from './types.js';

interface Row {
  id?: unknown;
  text?: unknown;
  score?: unknown;
  split?: unknown;
}

function toUtterance(r: Row, defaultSplit: Split, file: string, line: number, issues: LoadIssue[]) {
  const id = String(r.id ?? '').trim();
  const score = typeof r.score === 'number' ? r.score : Number(String(r.score ?? '').trim() || Number.NaN);
  const rawSplit = String(r.split ?? '')
    .trim()
    .toLowerCase();
  const split = rawSplit === 'valid' || rawSplit === 'validation' ? 'dev' : rawSplit;
  if (!id) return void issues.push({ file, line, reason: 'missing segment id' });
  if (!Number.isFinite(score) || score < -3 || score > 3) {
    return void issues.push({ file, line, reason: `score "${String(r.score)}" is not a number in [-3, 3]` });
  }
  if (split && !(SPLITS as readonly string[]).includes(split)) {
    return void issues.push({ file, line, reason: `unknown split "${String(r.split)}"` });
  }
  // MOSEI segment ids are "<video id>_<segment>": the video is the scene, so all its segments share a split.
  const video = id.includes('_') ? id.slice(0, id.lastIndexOf('_')) : id;
  const s = (split || defaultSplit) as Split;
  const u: SourceUtterance = {
    id: `mosei/${s}/${id}`,
    source: 'mosei',
    split: s,
    conversationId: `mosei/${video}`,
    index: 1,
    speaker: 'The person',
    text: cleanText(String(r.text ?? '')),
    sentiment: score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral',
    sentimentScore: score,
    video: `MOSEI/${id}.mp4`,
    origin: { file, line },
  };
  return u;
}

export function parseMosei(text: string, file: string, defaultSplit: Split = 'train') {
  const issues: LoadIssue[] = [];
  const utterances: SourceUtterance[] = [];
  const push = (u: SourceUtterance | undefined) => u && utterances.push(u);
  const firstChar = text.trimStart()[0];
  if (firstChar === '{') {
    text.split(/\r?\n/).forEach((l, k) => {
      if (!l.trim()) return;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l);
      } catch {
        issues.push({ file, line: k + 1, reason: 'invalid JSON line' });
        return;
      }
      push(
        toUtterance(
          { id: o.segment_id ?? o.id, text: o.text, score: o.score ?? o.label, split: o.split },
          defaultSplit,
          file,
          k + 1,
          issues,
        ),
      );
    });
    return { utterances, issues };
  }
  const rows = parseCsv(text);
  if (rows.length === 0) return { utterances, issues };
  const header = rows[0].fields.map((h) => h.trim().toLowerCase());
  const idx = (...names: string[]) => header.findIndex((h) => names.includes(h));
  const cId = idx('segment_id', 'segment', 'id');
  const cText = idx('text', 'utterance', 'transcript');
  const cScore = idx('score', 'label', 'sentiment');
  const cSplit = idx('split', 'mode');
  if (cId < 0 || cText < 0 || cScore < 0) {
    return {
      utterances,
      issues: [{ file, line: rows[0].line, reason: 'header needs segment_id, text and score' }],
    };
  }
  for (const row of rows.slice(1)) {
    if (row.fields.length !== header.length) {
      issues.push({
        file,
        line: row.line,
        reason: `expected ${header.length} fields, found ${row.fields.length}`,
      });
      continue;
    }
    const f = row.fields;
    push(
      toUtterance(
        { id: f[cId], text: f[cText], score: f[cScore], split: cSplit >= 0 ? f[cSplit] : '' },
        defaultSplit,
        file,
        row.line,
        issues,
      ),
    );
  }
  return { utterances, issues };
}

export function loadMosei(file: string, defaultSplit: Split = 'train') {
  try {
    return parseMosei(readFileSync(file, 'utf8'), file, defaultSplit);
  } catch (e) {
    return { utterances: [], issues: [{ file, line: 0, reason: `cannot read: ${(e as Error).message}` }] };
  }
}
