// Video decoding with ffmpeg, face detection, landmarks and tracking per person
export {
  type AnalyzedFrame,
  type AnalyzeOptions,
  analyzeFrames,
  analyzeVideo,
  type FrameFaces,
  type TrackedFace,
} from './private/analyze.js';
export {
  type DecodeOptions,
  type DecodePlan,
  decodeFrames,
  type Frame,
  planDecode,
} from './private/decode.js';
export { VideoError, type VideoErrorCode } from './private/errors.js';
export {
  type ExtractedFrame,
  type ExtractOptions,
  extractVideo,
  type SpanResult,
  type TimeSpan,
  type VideoExtraction,
} from './private/extract.js';
export { detectFaces, type FaceObservation, type FaceOptions, faceDescriptor } from './private/faces.js';
export { type FaceModels, loadFaceModels } from './private/models.js';
export { type FrameImage, type FrameImageOptions, frameImage } from './private/peak-image.js';
export { type HeadPose, headPose } from './private/pose.js';
export { probeVideo, type VideoInfo } from './private/probe.js';
export { descriptorDistance, iou, PersonTracker, type TrackerOptions } from './private/tracker.js';
export { type Box, EXPRESSIONS, type Expression, type Point } from './private/types.js';
export {
  decodeImage,
  encodeFrameJpeg,
  isStillImage,
  LANDMARK_COUNT,
  MAX_IMAGE_PIXELS,
  MESH_COUNT,
  packFaceGeometry,
  unpackFaceGeometry,
} from './private/wire.js';
