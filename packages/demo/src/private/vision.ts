// Stage 2b: the sample videos through the services, over gRPC: frame-extractor (frames, faces tracked
// per person) -> au-scorer (17 AUs per frame, S_f, the peak per person and across people) ->
// caption-generator (the FER record: AU_common(f, e) of the peak frame as text). The peak frame is
// fetched from the object store and drawn with its face box, landmarks and AU bars.
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Bus } from '@emoverse/bus';
import { loadAuEmotionTable } from '@emoverse/facs';
import { peakFramePng } from '@emoverse/plots';
import {
  AU_NAMES,
  type AuScored,
  AuScorerService,
  auVectorToRecord,
  CaptionGeneratorService,
  type FrameBatch,
  FrameExtractorService,
  Split,
  Task,
} from '@emoverse/proto';
import { createClient } from '@emoverse/service-kit';
import type { SampleVideo } from './options.js';
import { type ProgressWriter, progress } from './progress.js';

export interface VideoResult {
  video: SampleVideo;
  frames: number;
  faces: number;
  people: number;
  /** The overall peak (eq. 2); undefined when no usable face. */
  peak?: { trackId: number; frameIndex: number; timeS: number; sF: number; aus: Record<string, number> };
  /** The FER record's response (the caption) and the AUs it names. */
  caption?: string;
  captionAus: string[];
  /** FER record as caption-generator built it (query/response), or the drop reason. */
  record?: { query: string; response: string };
  dropped?: string;
  /** PNG of the peak frame with its AUs drawn, relative to the output folder. */
  peakPng?: string;
  seconds: number;
}

export interface VisionAddresses {
  frameExtractor: string;
  auScorer: string;
  captionGenerator: string;
}

/** All batches of one span as one (the extractor cuts spans into byte-bounded batches). */
function mergeBatches(batches: FrameBatch[]): FrameBatch {
  const first = batches[0];
  const merged = { ...first, batchIndex: 0, batchCount: 1, frames: batches.flatMap((b) => b.frames) };
  return merged as FrameBatch;
}

/** FACS names of the AUs ("AU12" -> "Lip corner puller") for the AU panel. */
function facsNames(sharedDir: string): Record<string, string> {
  const table = loadAuEmotionTable(join(sharedDir, 'data', 'facs', 'au_emotion.json'));
  return Object.fromEntries(Object.entries(table.au).map(([k, v]) => [k, v.name]));
}

export async function runVision(
  videos: readonly SampleVideo[],
  o: {
    sharedDir: string;
    outDir: string;
    addresses: VisionAddresses;
    bus: Bus;
    fps: number;
    maxFrames: number;
    out?: ProgressWriter;
  },
): Promise<VideoResult[]> {
  const fe = createClient(FrameExtractorService, o.addresses.frameExtractor);
  const au = createClient(AuScorerService, o.addresses.auScorer);
  const cg = createClient(CaptionGeneratorService, o.addresses.captionGenerator);
  const names = facsNames(o.sharedDir);
  const results: VideoResult[] = [];
  const bar = progress('videos -> peaks, FER', videos.length * 3, o.out);
  let step = 0;
  try {
    for (const video of videos) {
      const t0 = performance.now();
      const path = join(o.sharedDir, video.path);
      const name = basename(video.path);
      const jobId = `demo-${name.replace(/[^A-Za-z0-9]/g, '-')}`;
      bar.update(step, { status: `${name}: frame-extractor` });
      const extracted = await fe.extract(
        { jobId, source: { case: 'path', value: path }, options: { fps: o.fps, maxFrames: o.maxFrames } },
        { timeoutMs: 300_000 },
      );
      const spanErr = extracted.batches.find((b) => b.error)?.error;
      if (spanErr) throw new Error(`frame-extractor on ${name}: ${spanErr.code} ${spanErr.message}`);
      const batch = mergeBatches(extracted.batches.filter((b) => b.spanIndex === 0));
      bar.update(++step, { status: `${name}: au-scorer (${batch.frames.length} frames)` });
      const scored = await au.score(
        { jobId, input: { case: 'frames', value: batch }, includeFrames: true },
        { timeoutMs: 300_000 },
      );
      const span: AuScored | undefined = scored.results[0];
      if (!span) throw new Error(`au-scorer returned no result for ${name}`);
      bar.update(++step, { status: `${name}: caption-generator` });
      const r: VideoResult = {
        video,
        frames: batch.frames.length,
        faces: batch.frames.reduce((n, f) => n + f.faces.length, 0),
        people: span.personPeaks.length,
        captionAus: [],
        seconds: 0,
      };
      if (span.peak?.aus) {
        r.peak = {
          trackId: span.peak.trackId,
          frameIndex: span.peak.frameIndex,
          timeS: span.peak.timeS,
          sF: span.peak.sF,
          aus: auVectorToRecord(span.peak.aus.intensity),
        };
      }
      // The FER record, built by caption-generator from the source (with the clip's known emotion) and
      // its AU scores: AU_common(f, e) = AU_frame(f) ∩ AU_emotion(e).
      const built = await cg.buildRecords(
        {
          sources: [
            {
              id: `faces/${name}`,
              // FER records come from labelled MELD-style utterances (the emotion e of AU_common(f, e)).
              source: 'meld',
              split: Split.TEST,
              conversationId: `demo/${name}`,
              utteranceId: name,
              speaker: 'Person',
              text: `(sample video ${name})`,
              emotion: video.emotion,
              videoPaths: [video.path],
              tasks: [Task.FER],
              jobId,
              span: span.span,
            },
          ],
          auScores: [span],
          tasks: [Task.FER],
          eriBackend: 'deterministic',
          seed: 0,
        },
        { timeoutMs: 60_000 },
      );
      const rec = built.records.find((x) => x.task === Task.FER);
      if (rec) {
        r.record = { query: rec.query, response: rec.response };
        r.caption = rec.response;
        r.captionAus = (rec.meta.aus ?? rec.meta.au_common ?? '')
          .split(/[,; ]+/)
          .filter((a) => /^AU\d\d$/.test(a));
      } else {
        r.dropped = built.dropped.map((d) => d.reason).join(', ') || 'no FER record';
      }
      if (r.peak && span.peak?.frame) {
        const frame = batch.frames.find((f) => f.index === span.peak?.frameIndex);
        const face = frame?.faces.find((f) => f.trackId === span.peak?.trackId);
        const jpeg = await o.bus.blobs.get(span.peak.frame);
        const landmarks: [number, number][] = [];
        for (let i = 0; i + 1 < Math.min(face?.landmarks.length ?? 0, 136); i += 2)
          landmarks.push([face!.landmarks[i], face!.landmarks[i + 1]]);
        // The AUs the caption used (AU_common) are highlighted.
        const png = await peakFramePng(
          jpeg,
          face?.box,
          landmarks,
          AU_NAMES.map((a) => ({ au: a, intensity: r.peak!.aus[a], name: names[a] })),
          {
            // short enough for the panel; the report's heading names the clip
            title: `peak ${r.peak.timeS.toFixed(2)} s · S_f ${r.peak.sF.toFixed(1)} · ${video.emotion}`,
            highlight: r.captionAus,
            panelWidth: 380,
          },
        );
        r.peakPng = `peak-${name.replace(/\.[^.]+$/, '')}.png`;
        writeFileSync(join(o.outDir, r.peakPng), png);
      }
      r.seconds = (performance.now() - t0) / 1000;
      results.push(r);
      bar.update(++step, { status: `${name}: ${r.caption ?? r.dropped ?? ''}`.slice(0, 60) });
    }
    bar.finish(`${results.length} videos`);
    return results;
  } catch (e) {
    bar.fail((e as Error).message);
    throw e;
  } finally {
    fe.close();
    au.close();
    cg.close();
  }
}
