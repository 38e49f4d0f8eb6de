// How every EmoVerse service starts: validated env config (zod), a gRPC server with grpc.health.v1
// and reflection built from protobuf-es descriptors, OTel propagated through metadata, NATS, and a
// graceful shutdown on SIGTERM/SIGINT.

export { z } from 'zod';
export {
  type BrowserOptions,
  headersToMetadata,
  listenShared,
  type SharedListener,
  toConnectError,
} from './private/browser.js';
export {
  type ClientCallOptions,
  type ClientMethod,
  type ClientOptions,
  createClient,
  type PromiseClient,
  traceClientInterceptor,
} from './private/client.js';
export { type BaseConfig, baseConfigSchema, loadConfig } from './private/config.js';
export { ConfigError, GrpcError, status } from './private/errors.js';
export { grpcServiceDefinition, UndecodableRequest } from './private/grpc-adapter.js';
export {
  credentialVariables,
  explainConnectError,
  type NatsAuthEnv,
  natsAuthFromEnv,
  natsVariables,
} from './private/nats-auth.js';
export { addReflection } from './private/reflection.js';
export {
  type CallContext,
  type MethodImpl,
  type ServiceImpl,
  toServiceError,
} from './private/server-handlers.js';
export {
  defineService,
  type RunningService,
  type RunOptions,
  type Service,
  type ServiceContext,
  type ServiceDefinition,
  serverCredentials,
} from './private/service.js';
export { callbackStream, PushQueue } from './private/stream.js';
