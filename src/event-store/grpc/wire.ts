// The mapping between `eventstore.v1` messages and the EventStore port's types, shared by
// the gRPC server and the gRPC client so each field is named in exactly one place (an
// event's own fields in event-wire.ts).
//
// One renaming happens here and nowhere else: the protocol says "nonce" where this code
// says "version" (`aggregate_nonce` is an event's version in its stream, counted from 1)
// and "position" (`global_nonce` is its position in the whole log).

import type { AppendRequest, AppendResult, NewEvent, ReadStreamRequest, StreamPage, SubscribeRequest } from '../event-store.ts';
import { InvalidRequestError, MissingTenantError, TenantMismatchError } from '../errors.ts';
import { eventToWire, newEventFromWire, recordedEventFromWire } from './event-wire.ts';
import { Fields } from './fields.ts';
import { refuseUnsendable, refuseUnsendableAppend } from './unsendable.ts';

// ---- Append ---------------------------------------------------------------------------

/** The client fills each event's place in its stream, as the protocol asks. */
export function appendRequestToWire(request: AppendRequest): object {
  refuseUnsendableAppend(request);
  return {
    tenant_id: request.tenantId,
    aggregate_id: request.stream.aggregateId,
    aggregate_type: request.stream.aggregateType,
    expected_aggregate_nonce: request.expectedVersion,
    idempotency_key: request.idempotencyKey ?? '',
    events: request.events.map((event, index) =>
      eventToWire(event, { ...request, version: request.expectedVersion + index + 1, globalPosition: 0, recordedAtMs: 0 }),
    ),
  };
}

/**
 * The wire repeats tenant, aggregate and version in every event's meta; the port keeps
 * them once per request. So the repetition is checked here (empty means "the request's")
 * and dropped; the store then checks the request itself.
 */
export function appendRequestFromWire(raw: unknown): AppendRequest {
  const message = Fields.of(raw, 'AppendRequest');
  const tenantId = message.string('tenant_id');
  if (tenantId === '') throw new MissingTenantError();
  const stream = { aggregateId: message.string('aggregate_id'), aggregateType: message.string('aggregate_type') };
  const expectedVersion = message.uint64('expected_aggregate_nonce');
  const events = message.messages('events').map((data, index): NewEvent => {
    const where = `event ${index + 1}`;
    const meta = data.message('meta');
    if (meta === undefined) throw new InvalidRequestError(`${where}: meta is required`);
    if (namedOr(meta, 'aggregate_id', stream.aggregateId) !== stream.aggregateId) {
      throw new InvalidRequestError(`${where}: meta names aggregate ${namedOr(meta, 'aggregate_id', '')}, the request ${stream.aggregateId}`);
    }
    if (namedOr(meta, 'aggregate_type', stream.aggregateType) !== stream.aggregateType) {
      throw new InvalidRequestError(`${where}: meta names aggregate type ${namedOr(meta, 'aggregate_type', '')}, the request ${stream.aggregateType}`);
    }
    if (namedOr(meta, 'tenant_id', tenantId) !== tenantId) throw new TenantMismatchError(`${where}: meta names another tenant than the request`);
    const nonce = meta.uint64('aggregate_nonce');
    if (nonce !== expectedVersion + index + 1) {
      throw new InvalidRequestError(`${where}: aggregate_nonce must be ${expectedVersion + index + 1}, got ${nonce}`);
    }
    return newEventFromWire(meta, data.bytes('payload'));
  });
  const idempotencyKey = message.optionalString('idempotency_key');
  return { tenantId, stream, expectedVersion, events, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) };
}

export function appendResultToWire(result: AppendResult): object {
  return { last_global_nonce: result.lastGlobalPosition, last_aggregate_nonce: result.lastVersion };
}

export function appendResultFromWire(raw: unknown): AppendResult {
  const message = Fields.of(raw, 'AppendResponse');
  return { lastVersion: message.uint64('last_aggregate_nonce'), lastGlobalPosition: message.uint64('last_global_nonce') };
}

// ---- ReadStream -----------------------------------------------------------------------

export function readStreamRequestToWire(request: ReadStreamRequest): object {
  refuseUnsendable('request', 'tenant id', request.tenantId);
  refuseUnsendable('request', 'aggregate id', request.aggregateId);
  return {
    tenant_id: request.tenantId,
    aggregate_id: request.aggregateId,
    from_aggregate_nonce: request.fromVersion,
    max_count: request.maxCount,
    forward: request.direction === 'forward',
  };
}

export function readStreamRequestFromWire(raw: unknown): ReadStreamRequest {
  const message = Fields.of(raw, 'ReadStreamRequest');
  return {
    tenantId: message.string('tenant_id'),
    aggregateId: message.string('aggregate_id'),
    fromVersion: message.uint64('from_aggregate_nonce'),
    maxCount: message.uint32('max_count'),
    direction: message.bool('forward') ? 'forward' : 'backward',
  };
}

export function streamPageToWire(page: StreamPage): object {
  return {
    events: page.events.map((event) => eventToWire(event, event)),
    is_end: page.isEnd,
    next_from_aggregate_nonce: page.nextFromVersion,
  };
}

export function streamPageFromWire(raw: unknown): StreamPage {
  const message = Fields.of(raw, 'ReadStreamResponse');
  return {
    events: message.messages('events').map(recordedEventFromWire),
    isEnd: message.bool('is_end'),
    nextFromVersion: message.uint64('next_from_aggregate_nonce'),
  };
}

// ---- Subscribe ------------------------------------------------------------------------

export function subscribeRequestToWire(request: SubscribeRequest): object {
  refuseUnsendable('request', 'tenant id', request.tenantId);
  refuseUnsendable('request', 'aggregate id prefix', request.aggregateIdPrefix);
  return {
    tenant_id: request.tenantId,
    aggregate_id_prefix: request.aggregateIdPrefix ?? '',
    from_global_nonce: request.fromPosition,
  };
}

export function subscribeRequestFromWire(raw: unknown): SubscribeRequest {
  const message = Fields.of(raw, 'SubscribeRequest');
  return {
    tenantId: message.string('tenant_id'),
    aggregateIdPrefix: message.string('aggregate_id_prefix'),
    fromPosition: message.uint64('from_global_nonce'),
  };
}

/** An event's metadata may leave out what its request already says: then it says the same. */
function namedOr(meta: Fields, field: string, fallback: string): string {
  return meta.optionalString(field) ?? fallback;
}
