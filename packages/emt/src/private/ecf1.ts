// ECF 1.0 loader (data/ecf/mecpe): train/dev/test.txt give the split and the text; all_data_pair_ECFvsMELD.txt
// gives each utterance's MELD id. ECF text is tokenised with contractions expanded, so ids missing from the
// map are recovered by matching words against the MELD dialogue the rest of the conversation maps to.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EcpePair } from '@emoverse/metrics';
import { asEmotion } from './labels.js';
import { cleanText, matchWords, wordDice } from './text.js';
import type { LoadIssue, SourceConversation, SourceUtterance, Split } from './types.js';

export interface EcfBlock {
  conversationId: number;
  line: number;
  pairs: [number, number][];
  utterances: { index: number; speaker: string; emotion: string; text: string; last: string; line: number }[];
}

const HEADER = /^(\d+)\s+(\d+)$/;
const PAIR = /\((\d+)\s*,\s*(\d+)\)/g;

/** Parses the block format ("id n" / "(e,c),..." / n lines "i | speaker | emotion | text | extra"). */
export function parseEcfBlocks(text: string, file: string): { blocks: EcfBlock[]; issues: LoadIssue[] } {
  const lines = text.split(/\r?\n/);
  const blocks: EcfBlock[] = [];
  const issues: LoadIssue[] = [];
  let i = 0;
  while (i < lines.length) {
    const head = lines[i].trim();
    if (head === '') {
      i++;
      continue;
    }
    const h = HEADER.exec(head);
    if (!h) {
      issues.push({
        file,
        line: i + 1,
        reason: `expected "<conversation_id> <n>", found "${head.slice(0, 40)}"`,
      });
      i++;
      continue;
    }
    const block: EcfBlock = { conversationId: Number(h[1]), line: i + 1, pairs: [], utterances: [] };
    const n = Number(h[2]);
    const pairLine = lines[i + 1] ?? '';
    for (const m of pairLine.matchAll(PAIR)) block.pairs.push([Number(m[1]), Number(m[2])]);
    if (pairLine.trim() !== '' && block.pairs.length === 0) {
      issues.push({ file, line: i + 2, reason: 'pair line has no "(e,c)" pairs' });
    }
    let ok = true;
    let j = i + 2;
    for (; j < i + 2 + n; j++) {
      const raw = lines[j];
      const parts = raw?.split(' | ');
      if (!raw || HEADER.test(raw.trim()) || !parts || parts.length < 4) {
        issues.push({
          file,
          line: j + 1,
          reason: `conversation ${block.conversationId}: expected ${n} utterance lines`,
        });
        ok = false;
        break;
      }
      const index = Number(parts[0]);
      const last = parts.length >= 5 ? parts[parts.length - 1] : '';
      const textPart = parts.length >= 5 ? parts.slice(3, -1).join(' | ') : parts[3];
      block.utterances.push({
        index,
        speaker: parts[1].trim(),
        emotion: parts[2].trim(),
        text: textPart,
        last: last.trim(),
        line: j + 1,
      });
    }
    if (ok) blocks.push(block);
    i = j;
  }
  return { blocks, issues };
}

const MELD_REF = /^(train|dev|test)_dia(\d+)_utt(\d+)$/;

export interface EcfLinkStats {
  /** Utterances whose MELD id came from the map. */
  byMap: number;
  /** Utterances whose MELD id was recovered by matching words. */
  byText: number;
  unmatched: number;
}

/**
 * Loads ECF 1.0 conversations with their split and MELD ids. `meld` (the loaded MELD utterances) is used to
 * recover ids the map leaves empty; without it those stay unset.
 */
export function loadEcf1(
  dir: string,
  meld: readonly SourceUtterance[] = [],
): { conversations: SourceConversation[]; issues: LoadIssue[]; link: EcfLinkStats } {
  const issues: LoadIssue[] = [];
  const mapFile = join(dir, 'all_data_pair_ECFvsMELD.txt');
  const meldIdsByConv = new Map<number, string[]>();
  try {
    const r = parseEcfBlocks(readFileSync(mapFile, 'utf8'), mapFile);
    issues.push(...r.issues);
    for (const b of r.blocks)
      meldIdsByConv.set(
        b.conversationId,
        b.utterances.map((u) => u.last),
      );
  } catch (e) {
    issues.push({ file: mapFile, line: 0, reason: `cannot read: ${(e as Error).message}` });
  }
  const meldById = new Map(meld.map((u) => [u.id, u]));
  const meldByDialogue = new Map<string, SourceUtterance[]>();
  for (const u of meld) {
    const list = meldByDialogue.get(u.conversationId) ?? [];
    list.push(u);
    meldByDialogue.set(u.conversationId, list);
  }
  const link: EcfLinkStats = { byMap: 0, byText: 0, unmatched: 0 };
  const conversations: SourceConversation[] = [];
  for (const split of ['train', 'dev', 'test'] as Split[]) {
    const file = join(dir, `${split}.txt`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      issues.push({ file, line: 0, reason: `cannot read: ${(e as Error).message}` });
      continue;
    }
    const r = parseEcfBlocks(text, file);
    issues.push(...r.issues);
    for (const b of r.blocks) {
      const conv = toConversation(b, split, file, meldIdsByConv.get(b.conversationId), issues);
      linkToMeld(conv, meldById, meldByDialogue, link);
      conversations.push(conv);
    }
  }
  return { conversations, issues, link };
}

function toConversation(
  b: EcfBlock,
  split: Split,
  file: string,
  meldIds: string[] | undefined,
  issues: LoadIssue[],
): SourceConversation {
  const id = `ecf1/conv${b.conversationId}`;
  const utterances: SourceUtterance[] = b.utterances.map((u, k) => {
    const emotion = asEmotion(u.emotion);
    if (!emotion) issues.push({ file, line: u.line, reason: `unknown emotion "${u.emotion}"` });
    const su: SourceUtterance = {
      id: `${id}/utt${u.index}`,
      source: 'ecf1',
      split,
      conversationId: id,
      index: u.index,
      speaker: cleanText(u.speaker),
      text: cleanText(u.text),
      video: `ECF/${split}/dia${b.conversationId}utt${u.index}.mp4`,
      origin: { file, line: u.line },
    };
    if (emotion) su.emotion = emotion;
    const ref = MELD_REF.exec(meldIds?.[k] ?? '');
    if (ref) su.meldId = `meld/${ref[1]}/dia${ref[2]}_utt${ref[3]}`;
    return su;
  });
  const pairs: EcpePair[] = [];
  for (const [e, c] of b.pairs) {
    const emo = utterances.find((u) => u.index === e);
    if (!emo || !utterances.some((u) => u.index === c)) {
      issues.push({
        file,
        line: b.line + 1,
        reason: `pair (${e},${c}) names an utterance outside the conversation`,
      });
      continue;
    }
    pairs.push(
      emo.emotion ? { emotionUtt: e, causeUtt: c, emotion: emo.emotion } : { emotionUtt: e, causeUtt: c },
    );
  }
  return { id, source: 'ecf1', split, utterances, pairs, sceneKeys: [] };
}

// Fills missing MELD ids by word matching inside the MELD dialogues the conversation already maps to,
// then derives the conversation's scene keys (its MELD dialogues; its own id when it maps to none).
function linkToMeld(
  conv: SourceConversation,
  meldById: Map<string, SourceUtterance>,
  meldByDialogue: Map<string, SourceUtterance[]>,
  stats: EcfLinkStats,
): void {
  const dialogueOf = (meldId: string) => meldId.replace(/_utt\d+$/, '');
  const dialogues = new Set(conv.utterances.flatMap((u) => (u.meldId ? [dialogueOf(u.meldId)] : [])));
  const taken = new Set(conv.utterances.flatMap((u) => (u.meldId ? [u.meldId] : [])));
  for (const u of conv.utterances) {
    if (u.meldId) {
      stats.byMap++;
      continue;
    }
    const words = matchWords(u.text);
    let best: SourceUtterance | undefined;
    let bestScore = 0.6; // below this, a match is more likely a different line than a re-tokenised one
    for (const d of dialogues) {
      for (const m of meldByDialogue.get(d) ?? []) {
        if (taken.has(m.id)) continue;
        const s = wordDice(words, matchWords(m.text));
        if (s > bestScore) {
          bestScore = s;
          best = m;
        }
      }
    }
    if (best && meldById.has(best.id)) {
      u.meldId = best.id;
      taken.add(best.id);
      stats.byText++;
    } else stats.unmatched++;
  }
  const keys = new Set(conv.utterances.flatMap((u) => (u.meldId ? [dialogueOf(u.meldId)] : [])));
  conv.sceneKeys = keys.size > 0 ? [...keys].sort() : [conv.id];
}
