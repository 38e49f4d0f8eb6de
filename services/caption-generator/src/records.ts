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
  const scored = new Map<string, AuScored>();
  for (const a of auScores) {
    scored.set(joinKey(a.jobId, a.span?.id ?? ''), a);
    scored.set(joinKey(a.jobId, `#${a.spanIndex}`), a);
  }
  for (const s of sources) {
    const split = SPLIT_NAMES[s.split];
    const source = SOURCES.find((x) => x === s.source);
    if (!s.id || !split || !source) {
      out.rejected.push({
        id: s.id,
        reason: !s.id ? 'no id' : !split ? 'split unspecified' : `unknown source "${s.source}"`,
      });
      continue;
    }
    const conversationId = s.conversationId || s.id;
    const index = indexOf(s);
    const u: SourceUtterance = {
      id: s.id,
      source,
      split,
      conversationId,
      index,
      speaker: s.speaker,
      text: s.text,
    };
    const emotion = emotionOf(s.emotion);
    const sentiment = sentimentOf(s.sentiment);
    if (emotion) u.emotion = emotion;
    if (sentiment) u.sentiment = sentiment;
    if (s.sentimentScore !== undefined) u.sentimentScore = s.sentimentScore;
    if (s.videoPaths[0]) u.video = s.videoPaths[0];
    out.utterances.push(u);

    // FER: the AuScored of this clip (by span id, else the job's only span).
    const a = scored.get(joinKey(s.jobId, s.span?.id ?? '')) ?? scored.get(joinKey(s.jobId, '#0'));
    if (s.jobId && a && (a.span?.id === (s.span?.id ?? '') || a.spanCount <= 1))
      out.peakAus.set(s.id, peakAusOf(a));

    // Earlier turns: ERI history; with emotions and pairs they also form the ECPE conversation.
    const turns = s.conversation.slice(0, -1).map(
      (t, k): SourceUtterance => ({
        id: `${conversationId}/turn${k + 1}`,
        source,
        split,
        conversationId,
        index: k + 1,
        speaker: t.speaker,
        text: t.text,
        ...(emotionOf(t.emotion) ? { emotion: emotionOf(t.emotion) } : {}),
      }),
    );
    out.context.push(...turns);
    if (s.pairs.length > 0 || source === 'ecf1' || source === 'ecf2') {
      out.conversations.push({
        id: conversationId,
        source,
        split,
        sceneKeys: [conversationId],
        utterances: [...turns, u],
        pairs: s.pairs
          .filter((p) => p.emotionUtterance === index)
          .map((p) => {
            const e = emotionOf(p.emotion) ?? emotion;
            return e
              ? { emotionUtt: p.emotionUtterance, causeUtt: p.causeUtterance, emotion: e }
              : { emotionUtt: p.emotionUtterance, causeUtt: p.causeUtterance };
          }),
      });
      out.ecpeTargets.add(s.id);
    }
  }
  // One copy of each earlier turn, and none for utterances that are themselves in the request.
  const own = new Set(out.utterances.map((u) => `${u.conversationId}#${u.index}`));
  const seen = new Set<string>();
  out.context = out.context.filter((t) => {
    const k = `${t.conversationId}#${t.index}`;
    if (own.has(k) || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
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
