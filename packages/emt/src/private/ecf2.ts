// ECF 2.0 loader (SemEval-2024 Task 3 JSON). Subtask 2 names causes by utterance ("5"); Subtask 1 by span
// ("5_Paul , the wine guy"); both reduce to the utterance index. Its test conversations (IDs 1375+) are
// new scenes, not MELD dialogues, so each is its own scene key.
import { readFileSync } from 'node:fs';
import type { EcpePair } from '@emoverse/metrics';
import { asEmotion } from './labels.js';
import { cleanText } from './text.js';
import type { LoadIssue, SourceConversation, SourceUtterance, Split } from './types.js';

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

// The JSON as it may come: every field is checked before use.
interface RawUtterance {
  utterance_ID?: unknown;
  text?: unknown;
  speaker?: unknown;
  emotion?: unknown;
  video_name?: unknown;
}
interface RawConversation {
  conversation_ID?: unknown;
  conversation?: RawUtterance[];
  'emotion-cause_pairs'?: unknown;
}

/** Offsets where each element of the top-level array starts (for line numbers in reports). */
function elementOffsets(text: string): number[] {
  const out: number[] = [];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (depth === 1) out.push(i);
      depth++;
    } else if (c === ']' || c === '}') depth--;
  }
  return out;
}

export function parseEcf2Json(
  text: string,
  split: Split,
  file: string,
): { conversations: SourceConversation[]; issues: LoadIssue[] } {
  const issues: LoadIssue[] = [];
  const conversations: SourceConversation[] = [];
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message);
    return {
      conversations,
      issues: [{ file, line: pos ? lineAt(text, Number(pos[1])) : 0, reason: 'invalid JSON' }],
    };
  }
  if (!Array.isArray(data))
    return { conversations, issues: [{ file, line: 1, reason: 'expected a JSON array' }] };
  const starts = elementOffsets(text);
  data.forEach((c: RawConversation, k) => {
    const line = lineAt(text, starts[k] ?? 0);
    if (
      !c ||
      typeof c !== 'object' ||
      !Number.isInteger(c.conversation_ID) ||
      !Array.isArray(c.conversation)
    ) {
      issues.push({ file, line, reason: `entry ${k}: needs conversation_ID and conversation[]` });
      return;
    }
    const id = `ecf2/conv${c.conversation_ID}`;
    const conversation = c.conversation as RawUtterance[];
    const utterances: SourceUtterance[] = [];
    for (const u of conversation) {
      if (!Number.isInteger(u?.utterance_ID) || typeof u.text !== 'string') {
        issues.push({
          file,
          line,
          reason: `conversation ${c.conversation_ID}: utterance without utterance_ID/text`,
        });
        continue;
      }
      const emotion = asEmotion(typeof u.emotion === 'string' ? u.emotion : undefined);
      const index = u.utterance_ID as number;
      const su: SourceUtterance = {
        id: `${id}/utt${u.utterance_ID}`,
        source: 'ecf2',
        split,
        conversationId: id,
        index,
        speaker: cleanText(String(u.speaker ?? '')),
        text: cleanText(u.text),
        video: `ECF2/${split}/${typeof u.video_name === 'string' ? u.video_name : `dia${c.conversation_ID}utt${u.utterance_ID}.mp4`}`,
        origin: { file, line },
      };
      if (emotion) su.emotion = emotion;
      else
        issues.push({
          file,
          line,
          reason: `conversation ${c.conversation_ID}: unknown emotion "${u.emotion}"`,
        });
      utterances.push(su);
    }
    const pairs: EcpePair[] = [];
    const seen = new Set<string>();
    const rawPairs: unknown[] = Array.isArray(c['emotion-cause_pairs']) ? c['emotion-cause_pairs'] : [];
    for (const p of rawPairs as unknown[][]) {
      const e = Number.parseInt(String(p?.[0] ?? ''), 10);
      const cause = Number.parseInt(String(p?.[1] ?? ''), 10);
      const emo = utterances.find((u) => u.index === e);
      if (!emo || !utterances.some((u) => u.index === cause)) {
        issues.push({
          file,
          line,
          reason: `conversation ${c.conversation_ID}: bad pair ${JSON.stringify(p)}`,
        });
        continue;
      }
      const key = `${e},${cause}`; // span-level files can name two spans of one utterance
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push(
        emo.emotion
          ? { emotionUtt: e, causeUtt: cause, emotion: emo.emotion }
          : { emotionUtt: e, causeUtt: cause },
      );
    }
    conversations.push({ id, source: 'ecf2', split, utterances, pairs, sceneKeys: [id] });
  });
  return { conversations, issues };
}

export function loadEcf2(
  file: string,
  split: Split,
): { conversations: SourceConversation[]; issues: LoadIssue[] } {
  try {
    return parseEcf2Json(readFileSync(file, 'utf8'), split, file);
  } catch (e) {
    return { conversations: [], issues: [{ file, line: 0, reason: `cannot read: ${(e as Error).message}` }] };
  }
}
