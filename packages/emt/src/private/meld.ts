// MELD loader: {train,dev,test}_sent_emo.csv (CRLF, RFC-4180 quoting, typographic or mis-encoded characters).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from './csv.js';
import { asEmotion, asSentiment } from './labels.js';
import { cleanText } from './text.js';
import type { LoadIssue, SourceUtterance, Split } from './types.js';

export const MELD_FILES: Record<Split, string> = {
  train: 'train_sent_emo.csv',
  dev: 'dev_sent_emo.csv',
  test: 'test_sent_emo.csv',
};

const REQUIRED = ['Utterance', 'Speaker', 'Emotion', 'Sentiment', 'Dialogue_ID', 'Utterance_ID'] as const;

export function meldUtteranceId(split: Split, dialogue: number, utterance: number): string {
  return `meld/${split}/dia${dialogue}_utt${utterance}`;
}

export function meldDialogueId(split: Split, dialogue: number): string {
  return `meld/${split}/dia${dialogue}`;
}

/** Parses one MELD CSV text. Malformed rows become issues; rows with unknown labels keep the label empty. */
export function parseMeldCsv(
  text: string,
  split: Split,
  file: string,
): { utterances: SourceUtterance[]; issues: LoadIssue[] } {
  const rows = parseCsv(text);
  const issues: LoadIssue[] = [];
  const utterances: SourceUtterance[] = [];
  if (rows.length === 0) return { utterances, issues: [{ file, line: 1, reason: 'empty file' }] };
  const header = rows[0].fields.map((h) => h.trim());
  const col = new Map(header.map((h, i) => [h, i]));
  const missing = REQUIRED.filter((c) => !col.has(c));
  if (missing.length > 0) {
    return {
      utterances,
      issues: [{ file, line: rows[0].line, reason: `missing columns ${missing.join(', ')}` }],
    };
  }
  const get = (fields: string[], name: string) => fields[col.get(name)!] ?? '';
  for (const row of rows.slice(1)) {
    const f = row.fields;
    if (f.length !== header.length) {
      issues.push({ file, line: row.line, reason: `expected ${header.length} fields, found ${f.length}` });
      continue;
    }
    const dialogue = Number(get(f, 'Dialogue_ID'));
    const utt = Number(get(f, 'Utterance_ID'));
    if (!Number.isInteger(dialogue) || !Number.isInteger(utt) || dialogue < 0 || utt < 0) {
      issues.push({ file, line: row.line, reason: 'Dialogue_ID/Utterance_ID is not a non-negative integer' });
      continue;
    }
    const rawEmotion = get(f, 'Emotion');
    const rawSentiment = get(f, 'Sentiment');
    const emotion = asEmotion(rawEmotion);
    const sentiment = asSentiment(rawSentiment);
    if (rawEmotion.trim() && !emotion)
      issues.push({ file, line: row.line, reason: `unknown emotion "${rawEmotion}"` });
    if (rawSentiment.trim() && !sentiment) {
      issues.push({ file, line: row.line, reason: `unknown sentiment "${rawSentiment}"` });
    }
    const u: SourceUtterance = {
      id: meldUtteranceId(split, dialogue, utt),
      source: 'meld',
      split,
      conversationId: meldDialogueId(split, dialogue),
      index: utt + 1,
      speaker: cleanText(get(f, 'Speaker')),
      text: cleanText(get(f, 'Utterance')),
      video: `MELD/${split}/dia${dialogue}_utt${utt}.mp4`,
      origin: { file, line: row.line },
    };
    if (emotion) u.emotion = emotion;
    if (sentiment) u.sentiment = sentiment;
    utterances.push(u);
  }
  return { utterances, issues };
}

/** Loads the MELD CSVs of a folder (data/meld). A missing file is an issue, not an exception. */
export function loadMeld(dir: string, splits: readonly Split[] = ['train', 'dev', 'test']) {
  const utterances: SourceUtterance[] = [];
  const issues: LoadIssue[] = [];
  for (const split of splits) {
    const file = join(dir, MELD_FILES[split]);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      issues.push({ file, line: 0, reason: `cannot read: ${(e as Error).message}` });
      continue;
    }
    const r = parseMeldCsv(text, split, file);
    utterances.push(...r.utterances);
    issues.push(...r.issues);
  }
  return { utterances, issues };
}
