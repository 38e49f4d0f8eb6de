// Typed serving errors. The serving logic knows nothing of gRPC; each error carries a
// transport-neutral code that the gateway maps one-to-one onto a gRPC status code.

export type ServingErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'RESOURCE_EXHAUSTED'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export class ServingError extends Error {
  readonly code: ServingErrorCode;
  constructor(code: ServingErrorCode, message: string) {
    super(message);
    this.name = 'ServingError';
    this.code = code;
  }
}

/** The request was refused because the queue is full; the client should retry after `retryAfterMs`. */
export class ExhaustedError extends ServingError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super('RESOURCE_EXHAUSTED', message);
    this.name = 'ExhaustedError';
    this.retryAfterMs = retryAfterMs;
  }
}

export const invalidArgument = (message: string) => new ServingError('INVALID_ARGUMENT', message);
export const notFound = (message: string) => new ServingError('NOT_FOUND', message);

export function isServingError(e: unknown): e is ServingError {
  return e instanceof ServingError;
}
