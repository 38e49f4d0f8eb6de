// One error type for every way a video can be unusable, so services can map `code` to a gRPC status
// or an error event without parsing messages.
export type VideoErrorCode =
  | 'NOT_FOUND' // the file does not exist
  | 'NO_VIDEO_STREAM' // readable container, but audio only (or no streams)
  | 'DECODE_FAILED' // corrupt or truncated beyond use: ffprobe/ffmpeg rejected it
  | 'EMPTY_SPAN' // the requested time span holds no frame (zero length, or past the end)
  | 'INVALID_ARGUMENT'; // options out of range

export class VideoError extends Error {
  readonly code: VideoErrorCode;
  constructor(code: VideoErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'VideoError';
    this.code = code;
  }
}
