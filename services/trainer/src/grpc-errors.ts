// Trainer errors as gRPC statuses: a rejected run is INVALID_ARGUMENT with every problem in the
// message, a device this node cannot use FAILED_PRECONDITION, an unknown run NOT_FOUND; anything else passes through (service-kit maps it to INTERNAL).
import { GrpcError, status } from '@emoverse/service-kit';
import { DeviceUnavailable, RunRejected } from '@emoverse/trainer-core';
import { RunNotFound } from './runs.js';

export function RejectedRunError(err: unknown): unknown {
  if (err instanceof RunRejected) return new GrpcError(status.INVALID_ARGUMENT, err.message);
  if (err instanceof DeviceUnavailable) return new GrpcError(status.FAILED_PRECONDITION, err.message);
  if (err instanceof RunNotFound) return new GrpcError(status.NOT_FOUND, err.message);
  return err;
}
