// The client's side of the error mapping: a gRPC status from any `eventstore.v1` server
// becomes the port's typed error again, so callers handle one vocabulary whichever store
// answers, in this process or over the network.

import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
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
} from '../errors.ts';
import { decodeConcurrencyStatus, STATUS_DETAILS_KEY } from './proto.ts';

/** What the client knew when it made the call, to fill an error the server left vague. */
export interface CallSite {
  readonly address: string;
  readonly tenantId: string;
  readonly aggregateId?: string;
  readonly expectedVersion?: number;
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && 'code' in error && typeof error.code === 'number' && 'metadata' in error && error.metadata instanceof Metadata;
}

export function errorFromStatus(error: unknown, site: CallSite): Error {
  if (!isServiceError(error)) return error instanceof Error ? error : new Error(String(error));
  const details = error.details;
  switch (error.code) {
    // The protocol gives an empty tenant and a refused token the same code, and an event of
    // another tenant and a tenant the token does not cover another one. Servers of this
    // project say "tenant id is required" and "another tenant" in those cases; any other
    // refusal is about the caller's token.
    case status.UNAUTHENTICATED:
      if (/tenant id is required/i.test(details)) return new MissingTenantError();
      return new UnauthenticatedError(`the event store at ${site.address} refused the call: ${details}`);
    case status.INVALID_ARGUMENT:
      return new InvalidRequestError(details);
    case status.PERMISSION_DENIED:
      if (/another tenant/i.test(details)) return new TenantMismatchError(details);
      return new PermissionDeniedError(`the event store at ${site.address} refused tenant ${JSON.stringify(site.tenantId)}: ${details}`);
    case status.ABORTED:
      return concurrencyError(error, site);
    case status.ALREADY_EXISTS:
      // The protocol gives both the same code. Servers of this project always name the
      // idempotency key in the message of that case; anything else is a duplicate event id.
      return /idempotency key/i.test(details) ? new IdempotencyKeyReusedError(details) : new DuplicateEventIdError(details);
    case status.RESOURCE_EXHAUSTED:
      return new LimitExceededError(details);
    case status.UNAVAILABLE:
      // The server knows it recorded nothing (it gave up waiting): safe to send again.
      if (details.startsWith(NotRecordedError.wirePrefix)) return new NotRecordedError(details);
      return new StoreUnavailableError(`the event store at ${site.address} did not answer: ${details}`);
    case status.DEADLINE_EXCEEDED:
    // This client never cancels a call it is waiting on, so a CANCELLED answer means the
    // server or the connection cut it off (a server forced down mid-call): gone, not refused.
    case status.CANCELLED:
      return new StoreUnavailableError(`the event store at ${site.address} did not answer: ${details}`);
    default:
      return new Error(`the event store at ${site.address} answered ${status[error.code]}: ${details}`);
  }
}

/**
 * The actual head comes from the status details. A server that sends none leaves it
 * unknown (-1); the writer re-reads the stream before deciding again either way.
 */
function concurrencyError(error: ServiceError, site: CallSite): ConcurrencyError {
  const [bytes] = error.metadata.get(STATUS_DETAILS_KEY);
  const detail = bytes instanceof Buffer ? decodeConcurrencyStatus(bytes) : undefined;
  return new ConcurrencyError({
    tenantId: detail?.tenantId ?? site.tenantId,
    aggregateId: detail?.aggregateId ?? site.aggregateId ?? '',
    ...(site.expectedVersion === undefined ? {} : { expectedVersion: site.expectedVersion }),
    actualVersion: detail?.actualVersion ?? -1,
    actualGlobalPosition: detail?.actualGlobalPosition ?? -1,
  });
}

/** A reply this client cannot read is the server's fault, not the caller's: never an InvalidRequestError. */
export function unreadableReply(address: string, why: string): Error {
  return new Error(`the event store at ${address} sent a reply this client cannot read: ${why}`);
}
