// Typed NATS JetStream for every EmoVerse service: subjects named once (subjects.ts), streams and
// durable work-queue consumers declared in code, explicit ack, retries with backoff, dead letters
// with a reason, Nats-Msg-Id de-duplication, job state in KV, blobs in the Object Store, trace
// context in headers, drain on SIGTERM; and the model registry (KV + model.published), read and
// written here only.

export { credsAuthenticator, nkeyAuthenticator, nkeys } from 'nats';
export {
  type DigestManifest,
  DigestMismatchError,
  digestManifestName,
  manifestDigest,
  verifyDigestManifest,
  writeDigestManifest,
} from './digests.js';
export {
  eventsOf,
  type Grant,
  grants,
  type Identity,
  identityNames,
  inboxPrefix,
  type NatsPermissions,
  natsAuthorizationConfig,
  natsPermissions,
  passwordVariable,
} from './permissions.js';
export { BlobStore } from './private/blobs.js';
export { Bus, type BusOptions, connectBus, type NatsAuthOptions } from './private/bus.js';
export {
  type ConsumeFaults,
  type ConsumeOptions,
  type Delivery,
  type DerivedPublishOptions,
  type Handler,
  PermanentError,
  type WorkConsumer,
} from './private/consume.js';
export { type JobPatch, JobStore } from './private/jobs.js';
export type { BusLogger } from './private/options.js';
export {
  BusUnavailableError,
  EVENT_TYPE_HEADER,
  type EventInit,
  type PublishOptions,
  type PublishResult,
} from './private/publish.js';
export {
  type FetchFolderOptions,
  fetchFolder,
  ModelRegistry,
  type ModelRegistryOptions,
  type RegistryFiles,
  type UploadOptions,
} from './private/registry.js';
export type { BroadcastEvent, SubscribeOptions, Subscription } from './private/subscribe.js';
export {
  ensureStreams,
  type SettingDifference,
  TopologyMismatchError,
  type TopologyOptions,
} from './private/topology.js';
export { VIDEO_JOB_KIND, VideoJobs, type VideoStage, videoJobAttributes } from './private/video-jobs.js';
export {
  blobBuckets,
  type EventDef,
  type EventKind,
  type EventName,
  events,
  kvBuckets,
  streamSubject,
  subjectOf,
  subjects,
} from './subjects.js';
