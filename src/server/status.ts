// The gRPC edge of the event store's typed errors: the one place where each failure of the
// port becomes the status code the `eventstore.v1` protocol names for it.

import { Metadata, status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import {
  ConcurrencyError,
  DuplicateEventIdError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
  LimitExceededError,
  MissingTenantError,
  NotRecordedError,
  StoreUnavailableError,
  TenantMismatchError,
} from '../event-store/errors.ts';
import { encodeConcurrencyStatus, STATUS_DETAILS_KEY } from '../event-store/grpc/proto.ts';

export type FailedStatus = Pick<StatusObject, 'code' | 'details' | 'metadata'>;

/**
 * Unknown failures become INTERNAL without their message, which may hold internals (SQL,
 * paths) a client has no business seeing; `unexpected` is told so it can be logged.
 */
export function statusOf(error: unknown, unexpected: (error: unknown) => void): FailedStatus {
  const metadata = new Metadata();
  const reply = (code: status, details: string): FailedStatus => ({ code, details, metadata });
  if (error instanceof MissingTenantError) return reply(status.UNAUTHENTICATED, error.message);
  if (error instanceof InvalidRequestError) return reply(status.INVALID_ARGUMENT, error.message);
  if (error instanceof TenantMismatchError) return reply(status.PERMISSION_DENIED, error.message);
  if (error instanceof ConcurrencyError) {
    metadata.set(STATUS_DETAILS_KEY, encodeConcurrencyStatus({ code: status.ABORTED, message: error.message }, error));
    return reply(status.ABORTED, error.message);
  }
  // Both are ALREADY_EXISTS; clients tell them apart by the words "idempotency key".
  if (error instanceof IdempotencyKeyReusedError) {
    const details = /idempotency key/i.test(error.message) ? error.message : `idempotency key reused: ${error.message}`;
    return reply(status.ALREADY_EXISTS, details);
  }
  if (error instanceof DuplicateEventIdError) return reply(status.ALREADY_EXISTS, error.message);
  if (error instanceof LimitExceededError) return reply(status.RESOURCE_EXHAUSTED, error.message);
  if (error instanceof NotRecordedError) return reply(status.UNAVAILABLE, `${NotRecordedError.wirePrefix}${error.message}`);
  if (error instanceof StoreUnavailableError) return reply(status.UNAVAILABLE, error.message);
  unexpected(error);
  return reply(status.INTERNAL, 'internal error in the event store server');
}
