// ffmpeg → raw RGB frames, streamed (one frame in memory at a time, plus the pipe buffer).
// Frame k of a span starting at s is at t = s + k / fps, the same timestamp rule as OpenFace's CSV
// (frame 1 at 0.000 s).
import { spawn } from 'node:child_process';
import { VideoError } from './errors.js';
import { probeVideo, type VideoInfo } from './probe.js';

export interface Frame {
  /** 0-based index within the decoded span. */
  index: number;
  /** Seconds from the start of the video. */
  timeS: number;
  width: number;
  height: number;
  /** width * height * 3 bytes, row-major RGB. */
  rgb: Uint8Array;
}

export interface DecodeOptions {
  /** Sampling rate in frames per second; default: every stored frame (timed at the average rate). */
  fps?: number;
  /** Span start in seconds (default 0). */
  startS?: number;
  /** Span end in seconds (default: end of video). */
  endS?: number;
  /** Larger frames (4K) are scaled down so that the longer side is at most this (default 1280). */
  maxSide?: number;
}

export interface DecodePlan {
  info: VideoInfo;
  fps: number;
  width: number;
  height: number;
  startS: number;
  endS: number | undefined;
}

export async function planDecode(path: string, opts: DecodeOptions = {}): Promise<DecodePlan> {
  const startS = opts.startS ?? 0;
  const { endS } = opts;
  if (!(startS >= 0)) throw new VideoError('INVALID_ARGUMENT', `startS must be >= 0, got ${startS}`);
  if (endS !== undefined && !(endS > startS)) {
    throw new VideoError('EMPTY_SPAN', `span [${startS}, ${endS}] s has zero or negative length`);
  }
  if (opts.fps !== undefined && !(opts.fps > 0 && opts.fps <= 240)) {
    throw new VideoError('INVALID_ARGUMENT', `fps must be in (0, 240], got ${opts.fps}`);
  }
  const info = await probeVideo(path);
  if (info.durationS > 0 && startS >= info.durationS) {
    throw new VideoError(
      'EMPTY_SPAN',
      `span starts at ${startS} s, after the end of the video (${info.durationS} s)`,
    );
  }
  const maxSide = opts.maxSide ?? 1280;
  const k = Math.min(1, maxSide / Math.max(info.width, info.height));
  // Even sizes keep every pixel format and scaler happy.
  const width = Math.max(2, Math.round((info.width * k) / 2) * 2);
  const height = Math.max(2, Math.round((info.height * k) / 2) * 2);
  return { info, fps: opts.fps ?? info.fps, width, height, startS, endS };
}

export async function* decodeFrames(path: string, opts: DecodeOptions = {}): AsyncGenerator<Frame> {
  const plan = await planDecode(path, opts);
  const { width, height, fps, startS, endS } = plan;
  const args = ['-v', 'error', '-nostdin'];
  if (startS > 0) args.push('-ss', String(startS));
  args.push('-i', path);
  if (endS !== undefined) args.push('-t', String(endS - startS));
  // Without a sampling rate every stored frame is decoded, as OpenFace (OpenCV) reads them, so frame
  // numbers line up with an OpenFace CSV of the same file; with one, the fps filter resamples.
  if (opts.fps === undefined) args.push('-an', '-vf', `scale=${width}:${height}`, '-fps_mode', 'passthrough');
  else args.push('-an', '-vf', `fps=${fps},scale=${width}:${height}`);
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => resolve(code));
  });
  const frameBytes = width * height * 3;
  let pending = Buffer.alloc(frameBytes);
  let filled = 0;
  let index = 0;
  let done = false;
  try {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - off);
        chunk.copy(pending, filled, off, off + n);
        filled += n;
        off += n;
        if (filled === frameBytes) {
          const rgb = new Uint8Array(pending.buffer, pending.byteOffset, frameBytes);
          pending = Buffer.alloc(frameBytes);
          filled = 0;
          yield { index, timeS: startS + index / fps, width, height, rgb };
          index++;
        }
      }
    }
    const code = await exited;
    done = true;
    if (code !== 0) {
      const why = stderr.trim().split('\n').slice(-3).join(' | ');
      throw new VideoError(
        'DECODE_FAILED',
        `ffmpeg failed on ${path} after ${index} frames (exit ${code}): ${why}`,
      );
    }
    if (index === 0) {
      throw new VideoError(
        'EMPTY_SPAN',
        `no frame decoded from ${path} in span [${startS}, ${endS ?? 'end'}] s`,
      );
    }
  } finally {
    if (!done) proc.kill('SIGKILL');
  }
}
