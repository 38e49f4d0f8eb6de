// The errors a service throws on purpose: a gRPC status for the caller, or bad configuration at start-up.
import { type Metadata, status } from '@grpc/grpc-js';

export { status };

/** Throw from a handler to answer with this gRPC status code and message (anything else is INTERNAL). */
export class GrpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly metadata?: Metadata,
  ) {
    super(message);
    this.name = 'GrpcError';
  }
}

/** Bad configuration: names the variable; the service exits before serving anything. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
