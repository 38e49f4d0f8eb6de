// Source utterances/conversations -> EMT records for the five tasks, with quality control.
// Pure data in, data out: the batch build (emt:build) and the caption-generator service both call this.
import type { EcpePair, MeldEmotion } from '@emoverse/metrics';
import { type EriGenerator, type EriInput, type EriTurn, offlineEri } from './eri.js';
import type { FerCaptioner, PeakAus } from './fer.js';
import {
  ecpeConversationQuery,
  ecpeResponse,
  ecpeTargetQuery,
  eriQuery,
  erQuery,
  erResponse,
  ferQuery,
  msaQuery,
  msaResponse,
} from './prompts.js';
import { recordErrors } from './schema.js';
import { matchWords } from './text.js';
import {
  type EmtRecord,
  type SourceConversation,
  type SourceUtterance,
  type Split,
  TASKS,
  type Task,
} from './types.js';

/** Why a candidate record was dropped. */
export type DropReason =
  | 'missing_label'
  | 'empty_text'
  | 'no_face'
  | 'duplicate'
  | 'test_leak'
  | 'invalid_record';

export interface QualityDrop {
  sourceId: string;
  task: Task;
  split: Split;
  reason: DropReason;
  detail?: string;
}

export interface QualityReport {
  /** Drops per reason, all tasks. */
  dropped: Partial<Record<DropReason, number>>;
  /** Drops per task and reason. */
  droppedByTask: Partial<Record<Task, Partial<Record<DropReason, number>>>>;
  drops: QualityDrop[];
}

export interface RecordSources {
  /** Utterance-level sources: MELD (MSA, ER, FER, ERI) and MOSEI (MSA). */
  utterances: readonly SourceUtterance[];
  /** ECF conversations with pairs (ECPE; ERI causes through their MELD ids). */
  conversations: readonly SourceConversation[];
  /**
   * Earlier turns that only serve as context (ERI history), never as records themselves: the
   * caption-generator gets one utterance at a time with the conversation so far.
   */
  context?: readonly SourceUtterance[];
}

export interface RecordOptions {
  tasks?: readonly Task[];
  /** ERI backend; offline deterministic when absent. */
  eri?: EriGenerator;
  /** FER needs a captioner and the peak-frame AUs; without them no FER records are made. */
  fer?: { captioner: FerCaptioner; peakAus: PeakAus };
  /** "target": the paper's one record per emotion utterance; "conversation": one record with every pair. */
  ecpeMode?: 'target' | 'conversation';
  /** Preceding turns shown in ERI queries. */
  contextTurns?: number;
  /** Parallel ERI requests (only matters for model backends). */
  eriConcurrency?: number;
  /**
   * Drop duplicates in test splits too. Off by default so test sets keep the size published results use
   * (MELD test = 2,610 utterances).
   */
  dedupeTest?: boolean;
  /** Only these ECPE targets (utterance ids) become records; all when absent. */
  ecpeTargets?: ReadonlySet<string>;
}

interface Candidate {
  record: EmtRecord;
  /** Scenes it shows (test-leak check). */
  scenes: readonly string[];
  /** Same value = duplicate utterance for this task. */
  dupKey: string;
}

const isTest = (s: Split) => s === 'test';

function byConversation(utterances: readonly SourceUtterance[]): Map<string, SourceUtterance[]> {
  const m = new Map<string, SourceUtterance[]>();
  for (const u of utterances) {
    const list = m.get(u.conversationId) ?? [];
    list.push(u);
    m.set(u.conversationId, list);
  }
  for (const list of m.values()) list.sort((a, b) => a.index - b.index);
  return m;
}

async function mapPool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return out;
}

/** Builds the records of the requested tasks and applies quality control. Output order is deterministic. */
export async function makeRecords(
  sources: RecordSources,
  opts: RecordOptions = {},
): Promise<{ records: EmtRecord[]; quality: QualityReport }> {
  const tasks = new Set(opts.tasks ?? TASKS);
  const drops: QualityDrop[] = [];
  const candidates: Candidate[] = [];
  const drop = (u: { id: string; split: Split }, task: Task, reason: DropReason, detail?: string) =>
    drops.push(
      detail
        ? { sourceId: u.id, task, split: u.split, reason, detail }
        : { sourceId: u.id, task, split: u.split, reason },
    );
  const meldScene = (u: SourceUtterance) => [u.conversationId];
  const textKey = (u: SourceUtterance) =>
    `${u.conversationId}|${u.speaker.toLowerCase()}|${matchWords(u.text).join(' ')}`;
  const conversationsOf = byConversation([...(sources.context ?? []), ...sources.utterances]);

  // ECF utterances by the MELD utterance they are, for ERI causes.
  const ecfByMeld = new Map<string, { conv: SourceConversation; utt: SourceUtterance }>();
  for (const conv of sources.conversations) {
    for (const utt of conv.utterances) if (utt.meldId) ecfByMeld.set(utt.meldId, { conv, utt });
  }
  const meldById = new Map(sources.utterances.map((u) => [u.id, u]));

  const base = (
    task: Task,
    u: SourceUtterance,
    query: string,
    response: string,
    meta: Record<string, string>,
  ) => {
    const r: EmtRecord = {
      id: `${task}/${u.id}`,
      task,
      split: u.split,
      source: u.source,
      query,
      response,
      sourceId: u.id,
      meta: { conversation: u.conversationId, ...meta },
    };
    if (u.video) r.videos = [u.video];
    return r;
  };

  const eriJobs: { u: SourceUtterance; input: EriInput }[] = [];
  for (const u of sources.utterances) {
    const empty = u.text.trim() === '';
    if (tasks.has('msa')) {
      if (!u.sentiment) drop(u, 'msa', 'missing_label');
      else if (empty) drop(u, 'msa', 'empty_text');
      else {
        const meta: Record<string, string> = { sentiment: u.sentiment };
        if (u.sentimentScore !== undefined) meta.score = String(u.sentimentScore);
        candidates.push({
          record: base(
            'msa',
            u,
            msaQuery(u.text, u.sentimentScore !== undefined),
            msaResponse(u.sentiment, u.sentimentScore),
            meta,
          ),
          scenes: meldScene(u),
          dupKey: `${textKey(u)}|${u.sentiment}`,
        });
      }
    }
    if (u.source !== 'meld') continue; // ER, FER and ERI need MELD's emotion labels
    if (tasks.has('er')) {
      if (!u.emotion) drop(u, 'er', 'missing_label');
      else if (empty) drop(u, 'er', 'empty_text');
      else {
        candidates.push({
          record: base('er', u, erQuery(u.text), erResponse(u.emotion), { emotion: u.emotion }),
          scenes: meldScene(u),
          dupKey: `${textKey(u)}|${u.emotion}`,
        });
      }
    }
    let facialCues: string[] | undefined;
    if (tasks.has('fer') && opts.fer) {
      const key = u.video && opts.fer.peakAus.has(u.video) ? u.video : u.id;
      const aus = opts.fer.peakAus.get(key);
      if (!u.emotion) drop(u, 'fer', 'missing_label');
      else if (!aus)
        drop(u, 'fer', 'no_face', aus === null ? 'no face in the clip' : 'no AU scores for the clip');
      else {
        const { caption, aus: common } = opts.fer.captioner.auCommon(aus, u.emotion);
        facialCues = common.length > 0 ? [caption] : undefined;
        candidates.push({
          record: base('fer', u, ferQuery(), caption, { emotion: u.emotion, aus: common.join(',') }),
          scenes: meldScene(u),
          dupKey: `fer|${u.id}`, // each clip has its own face: only the same clip twice is a duplicate
        });
      }
    }
    if (tasks.has('eri')) {
      if (!u.emotion) drop(u, 'eri', 'missing_label');
      else if (empty) drop(u, 'eri', 'empty_text');
      else if (u.emotion !== 'neutral') {
        // Neutral utterances have no emotion to reason about; ERI covers the six emotions.
        const dialogue = conversationsOf.get(u.conversationId) ?? [];
        const turns = dialogue.filter((t) => t.index < u.index).slice(-(opts.contextTurns ?? 5));
        eriJobs.push({
          u,
          input: {
            id: u.id,
            speaker: u.speaker,
            text: u.text,
            emotion: u.emotion,
            context: turns.map((t) => ({ index: t.index, speaker: t.speaker, text: t.text })),
            causes: causesOf(u, ecfByMeld, meldById),
            ...(facialCues ? { facialCues } : {}),
          },
        });
      }
    }
  }

  if (eriJobs.length > 0) {
    const eri = opts.eri ?? offlineEri();
    const rationales = await mapPool(eriJobs, opts.eriConcurrency ?? 4, (j) => eri.rationale(j.input));
    eriJobs.forEach(({ u, input }, i) => {
      const dialogue = conversationsOf.get(u.conversationId) ?? [];
      const context = dialogue.filter((t) => t.index < u.index).slice(-(opts.contextTurns ?? 5));
      candidates.push({
        record: base('eri', u, eriQuery(u, context), `${erResponse(input.emotion)} ${rationales[i]}`, {
          emotion: input.emotion,
          causes: input.causes.map((c) => c.index).join(','),
          eri: eri.name,
        }),
        scenes: meldScene(u),
        dupKey: `${textKey(u)}|${input.emotion}`,
      });
    });
  }

  if (tasks.has('ecpe')) {
    for (const conv of sources.conversations)
      ecpeCandidates(conv, opts.ecpeMode ?? 'target', candidates, drop, opts.ecpeTargets);
  }

  return finish(candidates, drops, opts.dedupeTest ?? false);
}

function causesOf(
  u: SourceUtterance,
  ecfByMeld: Map<string, { conv: SourceConversation; utt: SourceUtterance }>,
  meldById: Map<string, SourceUtterance>,
): EriTurn[] {
  const hit = ecfByMeld.get(u.id);
  if (!hit) return [];
  const out: EriTurn[] = [];
  for (const p of hit.conv.pairs) {
    if (p.emotionUtt !== hit.utt.index) continue;
    const cause = hit.conv.utterances.find((c) => c.index === p.causeUtt);
    if (!cause) continue;
    // Prefer MELD's raw text (what the ERI query shows) over ECF's tokenised copy.
    const raw = cause.meldId ? meldById.get(cause.meldId) : undefined;
    out.push(
      raw
        ? { index: raw.index, speaker: raw.speaker, text: raw.text }
        : { index: cause.index, speaker: cause.speaker, text: cause.text },
    );
  }
  return out;
}

function ecpeCandidates(
  conv: SourceConversation,
  mode: 'target' | 'conversation',
  out: Candidate[],
  drop: (u: { id: string; split: Split }, task: Task, reason: DropReason, detail?: string) => void,
  targets?: ReadonlySet<string>,
): void {
  const utts = [...conv.utterances].sort((a, b) => a.index - b.index);
  const unlabeled = utts.find((u) => !u.emotion);
  if (unlabeled) return void drop(conv, 'ecpe', 'missing_label', `${unlabeled.id} has no emotion`);
  const blank = utts.find((u) => u.text.trim() === '');
  if (blank) return void drop(conv, 'ecpe', 'empty_text', `${blank.id} is empty`);
  const pairsText = (ps: readonly EcpePair[]) => ps.map((p) => `${p.emotionUtt},${p.causeUtt}`).join(';');
  const meta = (extra: Record<string, string>) => ({
    conversation: conv.id,
    scenes: conv.sceneKeys.join(','),
    ...extra,
  });
  if (mode === 'conversation') {
    const pairs = [...conv.pairs].sort((a, b) => a.emotionUtt - b.emotionUtt || a.causeUtt - b.causeUtt);
    const record: EmtRecord = {
      id: `ecpe/${conv.id}`,
      task: 'ecpe',
      split: conv.split,
      source: conv.source,
      query: ecpeConversationQuery(utts),
      response: ecpeResponse(pairs),
      sourceId: conv.id,
      meta: meta({ pairs: pairsText(pairs) }),
    };
    const videos = utts.flatMap((u) => (u.video ? [u.video] : []));
    if (videos.length > 0) record.videos = videos;
    out.push({ record, scenes: conv.sceneKeys, dupKey: `ecpe|${record.query}|${record.response}` });
    return;
  }
  for (const target of utts) {
    if (target.emotion === 'neutral') continue; // the paper asks for causes of emotion utterances only
    if (targets && !targets.has(target.id)) continue;
    const pairs = conv.pairs
      .filter((p) => p.emotionUtt === target.index)
      .sort((a, b) => a.causeUtt - b.causeUtt)
      .map((p) => ({ ...p, emotion: target.emotion as MeldEmotion }));
    const record: EmtRecord = {
      id: `ecpe/${target.id}`,
      task: 'ecpe',
      split: conv.split,
      source: conv.source,
      query: ecpeTargetQuery(utts, target),
      response: ecpeResponse(pairs),
      sourceId: target.id,
      meta: meta({ target: String(target.index), emotion: target.emotion!, pairs: pairsText(pairs) }),
    };
    if (target.video) record.videos = [target.video];
    out.push({ record, scenes: conv.sceneKeys, dupKey: `ecpe|${record.query}|${record.response}` });
  }
}

// Quality control over all candidates: test leaks, duplicates, schema. Scenes shown by any test record are
// off limits to train and dev, whatever source the test record came from.
function finish(candidates: Candidate[], drops: QualityDrop[], dedupeTest: boolean) {
  const testScenes = new Set<string>();
  for (const c of candidates) if (isTest(c.record.split)) for (const s of c.scenes) testScenes.add(s);
  const seen = new Set<string>();
  const records: EmtRecord[] = [];
  for (const c of candidates) {
    const r = c.record;
    const u = { id: r.sourceId, split: r.split };
    if (!isTest(r.split)) {
      const leak = c.scenes.find((s) => testScenes.has(s));
      if (leak) {
        drops.push({
          sourceId: u.id,
          task: r.task,
          split: r.split,
          reason: 'test_leak',
          detail: `shares ${leak} with test`,
        });
        continue;
      }
    }
    if (!isTest(r.split) || dedupeTest) {
      const key = `${r.task}|${r.split}|${c.dupKey}`;
      if (seen.has(key)) {
        drops.push({ sourceId: u.id, task: r.task, split: r.split, reason: 'duplicate' });
        continue;
      }
      seen.add(key);
    }
    if (!r.meta.scenes) r.meta.scenes = c.scenes.join(',');
    const errors = recordErrors(r);
    if (errors) {
      drops.push({ sourceId: u.id, task: r.task, split: r.split, reason: 'invalid_record', detail: errors });
      continue;
    }
    records.push(r);
  }
  const quality: QualityReport = { dropped: {}, droppedByTask: {}, drops };
  for (const d of drops) {
    quality.dropped[d.reason] = (quality.dropped[d.reason] ?? 0) + 1;
    quality.droppedByTask[d.task] ??= {};
    const t = quality.droppedByTask[d.task]!;
    t[d.reason] = (t[d.reason] ?? 0) + 1;
  }
  return { records, quality };
}
