// Generated TypeScript (protobuf-es v2) for the gRPC contracts and NATS events in proto/emoverse/v1,
// plus the few constants the proto files can only describe in comments.
// Regenerate with `npm run codegen` (buf generate); src/gen is not committed.

export * from './gen/emoverse/v1/au_scorer_pb.js';
export * from './gen/emoverse/v1/caption_generator_pb.js';
export * from './gen/emoverse/v1/common_pb.js';
export * from './gen/emoverse/v1/events_pb.js';
export * from './gen/emoverse/v1/frame_extractor_pb.js';
export * from './gen/emoverse/v1/gateway_pb.js';
export * from './gen/emoverse/v1/trainer_pb.js';
export { AU_NAMES, type AuName, auIndex, auRecordToVector, auVectorToRecord } from './private/au.js';
export { TASK_NAMES, type TaskName, taskFromName, taskName } from './private/task.js';
