// Proto <-> EMT domain: SourceRecord/AuScored in, EmtRecord/QualityDrop out. The paper's logic (prompts,
// AU_common captions, rationales, quality control) is in @emoverse/emt and @emoverse/facs; this file only
// translates messages.
import { create } from '@bufbuild/protobuf';
import {
  type EmtRecord as DomainRecord,
  type EriGenerator,
  type FerCaptioner,
  makeRecords,
  type SourceConversation,
  type SourceName,
  type SourceUtterance,
  type Split as SplitName,
} from '@emoverse/emt';
import { MELD_EMOTIONS, type MeldEmotion, SENTIMENTS, type Sentiment } from '@emoverse/metrics';
import {
  type AuScored,
  auVectorToRecord,
  type BuildRecordsResponse,
  BuildRecordsResponseSchema,
  type EmtRecord,
  EmtRecordSchema,
  QualityDropSchema,
  type SourceRecord,
  Split,
  Task,
  taskFromName,
  taskName,
} from '@emoverse/proto';

const SPLIT_NAMES: Record<Split, SplitName | undefined> = {
  [Split.UNSPECIFIED]: undefined,
  [Split.TRAIN]: 'train',
  [Split.DEV]: 'dev',
  [Split.TEST]: 'test',
};
const SPLIT_ENUM: Record<SplitName, Split> = { train: Split.TRAIN, dev: Split.DEV, test: Split.TEST };
const SOURCES: readonly SourceName[] = ['meld', 'ecf1', 'ecf2', 'mosei'];

const emotionOf = (s: string) =>
  (MELD_EMOTIONS as readonly string[]).includes(s.toLowerCase())
    ? (s.toLowerCase() as MeldEmotion)
    : undefined;
const sentimentOf = (s: string) =>
  (SENTIMENTS as readonly string[]).includes(s.toLowerCase()) ? (s.toLowerCase() as Sentiment) : undefined;

/** Where the source's own utterance sits in its conversation, 1-based. */
function indexOf(s: SourceRecord): number {
  if (s.conversation.length > 0) return s.conversation.length; // the conversation ends with this utterance
  const m = /(\d+)$/.exec(s.utteranceId);
  return m ? Number(m[1]) + (s.source === 'meld' ? 1 : 0) : 1;
}

/** The key that joins an AuScored to the SourceRecord of the same clip. */
export function joinKey(jobId: string, spanId: string): string {
  return `${jobId}#${spanId}`;
}

/** Peak-frame AUs of an AuScored: null when no usable face was found. */
export function peakAusOf(a: AuScored): Record<string, number> | null {
  if (!a.hasFace || !a.peak?.aus || a.peak.aus.intensity.length === 0) return null;
  return auVectorToRecord(a.peak.aus.intensity);
}

export interface Translated {
  utterances: SourceUtterance[];
  context: SourceUtterance[];
  conversations: SourceConversation[];
  peakAus: Map<string, Record<string, number> | null>;
  ecpeTargets: Set<string>;
  /** Sources that could not be read at all (no id, unknown split/source). */
  rejected: { id: string; reason: string }[];
}

/** Why a source cannot be read at all, or undefined when it can. */
function rejection(s: SourceRecord): string | undefined {
  if (!s.id) return 'no id';
  if (!SPLIT_NAMES[s.split]) return 'split unspecified';
  if (!SOURCES.includes(s.source as SourceName)) return `unknown source "${s.source}"`;
  return undefined;
}

/** The source's own utterance (`index` and `conversationId` already worked out). */
function utteranceOf(
  s: SourceRecord,
  at: Pick<SourceUtterance, 'conversationId' | 'index'>,
): SourceUtterance {
  const u: SourceUtterance = {
    id: s.id,
    source: s.source as SourceName,
    split: SPLIT_NAMES[s.split] as SplitName,
    ...at,
    speaker: s.speaker,
    text: s.text,
  };
  const emotion = emotionOf(s.emotion);
  const sentiment = sentimentOf(s.sentiment);
  if (emotion) u.emotion = emotion;
  if (sentiment) u.sentiment = sentiment;
  if (s.sentimentScore !== undefined) u.sentimentScore = s.sentimentScore;
  if (s.videoPaths[0]) u.video = s.videoPaths[0];
  return u;
}

/** The earlier turns of a source's conversation: ERI history, and with emotions the ECPE conversation. */
function turnsOf(s: SourceRecord, u: SourceUtterance): SourceUtterance[] {
  return s.conversation.slice(0, -1).map(
    (t, k): SourceUtterance => ({
      id: `${u.conversationId}/turn${k + 1}`,
      source: u.source,
      split: u.split,
      conversationId: u.conversationId,
      index: k + 1,
      speaker: t.speaker,
      text: t.text,
      ...(emotionOf(t.emotion) ? { emotion: emotionOf(t.emotion) } : {}),
    }),
  );
}

/** The ECPE conversation ending with `u`: its turns and the pairs whose emotion utterance is `u`. */
function conversationOf(s: SourceRecord, u: SourceUtterance, turns: SourceUtterance[]): SourceConversation {
  return {
    id: u.conversationId,
    source: u.source,
    split: u.split,
    sceneKeys: [u.conversationId],
    utterances: [...turns, u],
    pairs: s.pairs
      .filter((p) => p.emotionUtterance === u.index)
      .map((p) => {
        const e = emotionOf(p.emotion) ?? u.emotion;
        return e
          ? { emotionUtt: p.emotionUtterance, causeUtt: p.causeUtterance, emotion: e }
          : { emotionUtt: p.emotionUtterance, causeUtt: p.causeUtterance };
      }),
  };
}

/** AuScored by join key: each under its span id and under its span index. */
function scoredByKey(auScores: readonly AuScored[]): Map<string, AuScored> {
  const scored = new Map<string, AuScored>();
  for (const a of auScores) {
    scored.set(joinKey(a.jobId, a.span?.id ?? ''), a);
    scored.set(joinKey(a.jobId, `#${a.spanIndex}`), a);
  }
  return scored;
}

/** FER: the AuScored of a source's clip (by span id, else the job's only span), if it has one. */
function clipScore(s: SourceRecord, scored: Map<string, AuScored>): AuScored | undefined {
  const a = scored.get(joinKey(s.jobId, s.span?.id ?? '')) ?? scored.get(joinKey(s.jobId, '#0'));
  return s.jobId && a && (a.span?.id === (s.span?.id ?? '') || a.spanCount <= 1) ? a : undefined;
}

/** One copy of each earlier turn, and none for utterances that are themselves in the request. */
function distinctContext(context: SourceUtterance[], utterances: SourceUtterance[]): SourceUtterance[] {
  const own = new Set(utterances.map((u) => `${u.conversationId}#${u.index}`));
  const seen = new Set<string>();
  return context.filter((t) => {
    const k = `${t.conversationId}#${t.index}`;
    if (own.has(k) || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** SourceRecords (+ their AuScored, joined by job id and span id) -> the EMT builder's inputs. */
export function fromProto(sources: readonly SourceRecord[], auScores: readonly AuScored[]): Translated {
  const out: Translated = {
    utterances: [],
    context: [],
    conversations: [],
    peakAus: new Map(),
    ecpeTargets: new Set(),
    rejected: [],
  };
  const scored = scoredByKey(auScores);
  for (const s of sources) {
    const reason = rejection(s);
    if (reason) {
      out.rejected.push({ id: s.id, reason });
      continue;
    }
    const u = utteranceOf(s, { conversationId: s.conversationId || s.id, index: indexOf(s) });
    out.utterances.push(u);
    const a = clipScore(s, scored);
    if (a) out.peakAus.set(s.id, peakAusOf(a));
    const turns = turnsOf(s, u);
    out.context.push(...turns);
    if (s.pairs.length > 0 || u.source === 'ecf1' || u.source === 'ecf2') {
      out.conversations.push(conversationOf(s, u, turns));
      out.ecpeTargets.add(s.id);
    }
  }
  out.context = distinctContext(out.context, out.utterances);
  return out;
}

export function toProtoRecord(r: DomainRecord): EmtRecord {
  return create(EmtRecordSchema, {
    id: r.id,
    task: taskFromName(r.task),
    split: SPLIT_ENUM[r.split],
    query: r.query,
    response: r.response,
    images: r.images ?? [],
    videos: r.videos ?? [],
    sourceId: r.sourceId,
    meta: { ...r.meta, source: r.source },
  });
}

export interface BuildDeps {
  captioner: FerCaptioner;
  /** ERI backends by name ("deterministic" always exists); the request's eri_backend picks one. */
  eri: Record<string, EriGenerator>;
  defaultEri: string;
}

/** BuildRecords: the gRPC method and the NATS handler both come here. */
export async function buildRecords(
  req: {
    sources: readonly SourceRecord[];
    auScores: readonly AuScored[];
    tasks: readonly Task[];
    eriBackend: string;
    seed: number;
  },
  deps: BuildDeps,
): Promise<BuildRecordsResponse> {
  const t = fromProto(req.sources, req.auScores);
  const eri = deps.eri[req.eriBackend || deps.defaultEri];
  if (!eri)
    throw new Error(`unknown ERI backend "${req.eriBackend}" (known: ${Object.keys(deps.eri).join(', ')})`);
  const tasks = req.tasks.filter((x) => x !== Task.UNSPECIFIED).map(taskName);
  const { records, quality } = await makeRecords(
    { utterances: t.utterances, conversations: t.conversations, context: t.context },
    {
      tasks: tasks.length > 0 ? tasks : undefined,
      eri,
      fer: { captioner: deps.captioner, peakAus: t.peakAus },
      ecpeTargets: t.ecpeTargets,
    },
  );
  // A source's own task list (SourceRecord.tasks) narrows what is built from it.
  const allowed = new Map(
    req.sources
      .filter((x) => x.tasks.some((k) => k !== Task.UNSPECIFIED))
      .map((x) => [x.id, new Set(x.tasks.filter((k) => k !== Task.UNSPECIFIED).map(taskName))]),
  );
  const wanted = (sourceId: string, task: string) => allowed.get(sourceId)?.has(task as never) ?? true;
  const kept = records.filter((r) => wanted(r.sourceId, r.task));
  const dropped = [
    ...t.rejected.map((r) =>
      create(QualityDropSchema, {
        sourceId: r.id,
        task: Task.UNSPECIFIED,
        reason: `invalid_source: ${r.reason}`,
      }),
    ),
    ...quality.drops
      .filter((d) => wanted(d.sourceId, d.task))
      .map((d) =>
        create(QualityDropSchema, { sourceId: d.sourceId, task: taskFromName(d.task), reason: d.reason }),
      ),
  ];
  const dropCounts: Record<string, number> = {};
  for (const d of dropped) {
    const reason = d.reason.split(':')[0];
    dropCounts[reason] = (dropCounts[reason] ?? 0) + 1;
  }
  return create(BuildRecordsResponseSchema, { records: kept.map(toProtoRecord), dropped, dropCounts });
}
