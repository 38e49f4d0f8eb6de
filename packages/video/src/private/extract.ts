// What frame-extractor does for one video: every utterance span is decoded at the sampling rate, its
// faces found and tracked (one tracker for the whole video, so a person keeps one id across spans), and
// each sampled frame kept as JPEG. A span that fails (zero length, past the end) is reported on its own
// and the other spans go on; a video that cannot be read at all fails every span with the same error.
import { type AnalyzeOptions, analyzeVideo, type FrameFaces } from './analyze.js';
import { VideoError } from './errors.js';
import { probeVideo, type VideoInfo } from './probe.js';
import { PersonTracker } from './tracker.js';
import { encodeFrameJpeg } from './wire.js';

export interface TimeSpan {
  startS: number;
  /** Omitted: to the end of the video. */
  endS?: number;
  id?: string;
}

export interface ExtractedFrame extends FrameFaces {
  jpeg: Buffer;
}

export interface SpanResult {
  spanIndex: number;
  span: TimeSpan;
  /** Sampling rate used. */
  fps: number;
  frames: ExtractedFrame[];
  error?: VideoError;
}

export interface ExtractOptions extends Omit<AnalyzeOptions, 'startS' | 'endS' | 'keepFrames' | 'tracker'> {
  /** JPEG quality of the kept frames (default 85). */
  jpegQuality?: number;
  /** Upper bound on frames per span: a longer span is sampled at a lower rate to stay within it. */
  maxFrames?: number;
}

export interface VideoExtraction {
  info: VideoInfo;
  spans: AsyncGenerator<SpanResult>;
}

/**
 * Probes the video (throws VideoError when it cannot be read at all) and returns the per-span results
 * as a generator, so a caller can publish each span as soon as it is done.
 */
export async function extractVideo(
  path: string,
  spans: readonly TimeSpan[],
  opts: ExtractOptions = {},
): Promise<VideoExtraction> {
  const info = await probeVideo(path);
  const list = spans.length > 0 ? spans : [{ startS: 0 }];
  const fps = opts.fps ?? info.fps;
  const tracker = new PersonTracker(opts);
  async function* run(): AsyncGenerator<SpanResult> {
    for (let spanIndex = 0; spanIndex < list.length; spanIndex++) {
      const span = list[spanIndex];
      const frames: ExtractedFrame[] = [];
      const length = (span.endS ?? info.durationS) - span.startS;
      const spanFps = opts.maxFrames && length > 0 ? Math.min(fps, opts.maxFrames / length) : fps;
      try {
        for await (const f of analyzeVideo(path, {
          ...opts,
          // No rate asked and none forced by maxFrames: every stored frame.
          fps: opts.fps === undefined && spanFps === fps ? undefined : spanFps,
          startS: span.startS,
          endS: span.endS,
          keepFrames: true,
          tracker,
        })) {
          if (opts.maxFrames && frames.length >= opts.maxFrames) break;
          const { frame, ...faces } = f;
          frames.push({ ...faces, jpeg: await encodeFrameJpeg(frame!, opts.jpegQuality ?? 85) });
        }
        yield { spanIndex, span, fps: spanFps, frames };
      } catch (err) {
        if (!(err instanceof VideoError)) throw err;
        yield { spanIndex, span, fps: spanFps, frames: [], error: err };
      }
    }
  }
  return { info, spans: run() };
}
