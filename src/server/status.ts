// The gRPC edge of the event store's typed errors: the one place where each failure of the
// port becomes the status code the `eventstore.v1` protocol names for it, and where what a
// client may read is split from what only the server's log keeps.

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
  PermissionDeniedError,
  StoreUnavailableError,
  TenantMismatchError,
  UnauthenticatedError,
} from '../event-store/errors.ts';
import { encodeConcurrencyStatus, STATUS_DETAILS_KEY } from '../event-store/grpc/proto.ts';

export type FailedStatus = Pick<StatusObject, 'code' | 'details' | 'metadata'>;

export interface Answer {
  readonly status: FailedStatus;
  /** What the log keeps and the client is not told: a database's host, SQL, a stack. */
  readonly withheld?: string;
}

/**
 * A failure whose detail may hold internals (an unknown error, a database that cannot be
 * reached, a driver's message kept as `cause`) reaches the client as plain words and `ref`,
 * a short id the server's log line carries too, so an operator can match the two.
 */
export function statusOf(error: unknown, ref: string): Answer {
  const metadata = new Metadata();
  // An error of ours that carries a driver's error as its cause: its words go out, the cause's stay here.
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : undefined;
  const reply = (code: status, details: string): Answer => {
    if (cause === undefined) return { status: { code, details, metadata } };
    return { status: { code, details: `${details} (ref ${ref})`, metadata }, withheld: describe(cause) };
  };
  if (error instanceof MissingTenantError) return reply(status.UNAUTHENTICATED, error.message);
  if (error instanceof UnauthenticatedError) return reply(status.UNAUTHENTICATED, error.message);
  if (error instanceof PermissionDeniedError) return reply(status.PERMISSION_DENIED, error.message);
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
  if (error instanceof NotRecordedError) {
    const details = `${NotRecordedError.wirePrefix}the event store gave up on the request and recorded nothing; send it again (ref ${ref})`;
    return { status: { code: status.UNAVAILABLE, details, metadata }, withheld: describe(error) };
  }
  if (error instanceof StoreUnavailableError) {
    const details = `the event store cannot reach its storage right now; try again shortly (ref ${ref})`;
    return { status: { code: status.UNAVAILABLE, details, metadata }, withheld: describe(error) };
  }
  return { status: { code: status.INTERNAL, details: `internal error in the event store server (ref ${ref})`, metadata }, withheld: describe(error) };
}

/** Everything a driver error tells: message, stack, and pg's `detail` (the key that clashed). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const detail = 'detail' in error && typeof error.detail === 'string' ? `\n  detail: ${error.detail}` : '';
  const cause = error.cause === undefined ? '' : `\n  cause: ${describe(error.cause)}`;
  return `${error.stack ?? error.message}${detail}${cause}`;
}
