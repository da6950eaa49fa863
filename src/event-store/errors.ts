// The event store's typed failures. Every implementation throws these and nothing else
// for the rules of the protocol, so callers (and the gRPC edge that maps them to status
// codes) handle one vocabulary whichever store is behind the interface.

export abstract class EventStoreError extends Error {
  abstract readonly code: string;
}

/** No tenant was named: the wire's UNAUTHENTICATED. */
export class MissingTenantError extends EventStoreError {
  readonly code = 'missing-tenant';
  constructor() {
    super('tenant id is required');
  }
}

/** A malformed request: the wire's INVALID_ARGUMENT. */
export class InvalidRequestError extends EventStoreError {
  readonly code = 'invalid-request';
}

/** An event names another tenant than the request: the wire's PERMISSION_DENIED. */
export class TenantMismatchError extends EventStoreError {
  readonly code = 'tenant-mismatch';
}

/** A request past one of the store's limits: the wire's RESOURCE_EXHAUSTED. */
export class LimitExceededError extends EventStoreError {
  readonly code = 'limit-exceeded';
}

/**
 * The stream's head is not where the writer expected it: someone else appended first.
 * Carries the actual head so the writer can re-read and decide again. The wire's ABORTED.
 */
export class ConcurrencyError extends EventStoreError {
  readonly code = 'concurrency';
  readonly tenantId: string;
  readonly aggregateId: string;
  readonly expectedVersion: number | undefined;
  readonly actualVersion: number;
  readonly actualGlobalPosition: number;

  constructor(detail: {
    tenantId: string;
    aggregateId: string;
    expectedVersion?: number;
    actualVersion: number;
    actualGlobalPosition: number;
  }) {
    const expected = detail.expectedVersion === undefined ? '' : `expected version ${detail.expectedVersion}, `;
    super(`stream ${detail.aggregateId}: ${expected}actual version ${detail.actualVersion}`);
    this.tenantId = detail.tenantId;
    this.aggregateId = detail.aggregateId;
    this.expectedVersion = detail.expectedVersion;
    this.actualVersion = detail.actualVersion;
    this.actualGlobalPosition = detail.actualGlobalPosition;
  }
}

/** The idempotency key was already used for a different batch: the wire's ALREADY_EXISTS. */
export class IdempotencyKeyReusedError extends EventStoreError {
  readonly code = 'idempotency-key-reused';
}

/** An event id is already stored for this tenant: the wire's ALREADY_EXISTS. */
export class DuplicateEventIdError extends EventStoreError {
  readonly code = 'duplicate-event-id';
}

/** The store cannot be reached (server down, database unreachable): the wire's UNAVAILABLE. */
export class StoreUnavailableError extends EventStoreError {
  readonly code = 'unavailable';
}

/** The server took no token from the caller, or one it does not know: the wire's UNAUTHENTICATED. */
export class UnauthenticatedError extends EventStoreError {
  readonly code = 'unauthenticated';
}

/** The caller's token is good but does not cover the tenant asked for: the wire's PERMISSION_DENIED. */
export class PermissionDeniedError extends EventStoreError {
  readonly code = 'permission-denied';
}

/**
 * The store gave up on the request and recorded nothing (a lock or statement timeout rolled
 * it back), so sending it again is safe, with or without an idempotency key. A kind of
 * unavailable (the wire's UNAVAILABLE too), so whoever handles "try later" handles it.
 */
export class NotRecordedError extends StoreUnavailableError {
  /** How the gRPC edge marks it within UNAVAILABLE, so a client can tell it from "unknown". */
  static readonly wirePrefix = 'not recorded: ';
}
