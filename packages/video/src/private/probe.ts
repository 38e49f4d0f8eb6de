// ffprobe: what the container holds, before any decoding.
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { promisify } from 'node:util';
import { VideoError } from './errors.js';

const execFileAsync = promisify(execFile);

export interface VideoInfo {
  width: number;
  height: number;
  /** Average frame rate of the video stream (frames per second). */
  fps: number;
  /** Container duration in seconds (0 when unknown). */
  durationS: number;
  codec: string;
  hasAudio: boolean;
}

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [num, den] = rate.split('/').map(Number);
  if (!den) return Number.isFinite(num) ? num : 0;
  return num / den;
}

export async function probeVideo(path: string): Promise<VideoInfo> {
  try {
    await access(path);
  } catch {
    throw new VideoError('NOT_FOUND', `no such file: ${path}`);
  }
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      'ffprobe',
      [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_type,codec_name,width,height,avg_frame_rate,r_frame_rate:format=duration',
        '-of',
        'json',
        path,
      ],
      { maxBuffer: 1 << 20 },
    ));
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? err)
      .trim()
      .split('\n')
      .slice(-2)
      .join(' ');
    throw new VideoError('DECODE_FAILED', `ffprobe cannot read ${path}: ${stderr}`);
  }
  const parsed = JSON.parse(stdout) as {
    streams?: {
      codec_type: string;
      codec_name: string;
      width?: number;
      height?: number;
      avg_frame_rate?: string;
      r_frame_rate?: string;
    }[];
    format?: { duration?: string };
  };
  const streams = parsed.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0);
  if (!video)
    throw new VideoError('NO_VIDEO_STREAM', `${path} has no video stream (audio-only or empty container)`);
  // avg_frame_rate is 0/0 for some ASF files; r_frame_rate is then the nominal rate.
  const fps = parseRate(video.avg_frame_rate) || parseRate(video.r_frame_rate);
  return {
    width: video.width!,
    height: video.height!,
    fps: fps > 0 && fps < 1000 ? fps : 25,
    durationS: Number(parsed.format?.duration ?? 0) || 0,
    codec: video.codec_name,
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
  };
}
