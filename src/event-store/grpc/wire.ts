// The mapping between `eventstore.v1` messages and the EventStore port's types, shared by
// the gRPC server and the gRPC client so each field is named in exactly one place.
//
// One renaming happens here and nowhere else: the protocol says "nonce" where this code
// says "version" (`aggregate_nonce` is an event's version in its stream, counted from 1)
// and "position" (`global_nonce` is its position in the whole log).

import type {
  AppendRequest,
  AppendResult,
  NewEvent,
  ReadStreamRequest,
  RecordedEvent,
  StreamId,
  StreamPage,
  SubscribeRequest,
} from '../event-store.ts';
import { DEFAULT_CONTENT_TYPE } from '../event-store.ts';
import { InvalidRequestError, MissingTenantError, TenantMismatchError } from '../errors.ts';
import { eventNumberProblem } from '../rules.ts';
import { Fields } from './fields.ts';

interface WireEventData {
  readonly meta: Readonly<Record<string, unknown>>;
  readonly payload: Uint8Array;
}

/** Where an event sits: what the port keeps beside the event and the wire keeps in its meta. */
interface Placement {
  readonly tenantId: string;
  readonly stream: StreamId;
  readonly version: number;
  /** 0 while the event is not stored yet. */
  readonly globalPosition: number;
  readonly recordedAtMs: number;
}

// ---- events ---------------------------------------------------------------------------

export function eventToWire(event: NewEvent, placement: Placement): WireEventData {
  return {
    meta: {
      event_id: event.eventId,
      aggregate_id: placement.stream.aggregateId,
      aggregate_type: placement.stream.aggregateType,
      aggregate_nonce: placement.version,
      event_type: event.eventType,
      event_version: event.eventVersion,
      content_type: event.contentType,
      content_schema: event.contentSchema ?? '',
      correlation_id: event.correlationId ?? '',
      causation_id: event.causationId ?? '',
      actor_id: event.actorId ?? '',
      tenant_id: placement.tenantId,
      timestamp_unix_ms: event.clientTimestampMs ?? 0,
      recorded_time_unix_ms: placement.recordedAtMs,
      payload_sha256: event.payloadSha256 ?? new Uint8Array(),
      headers: event.headers ?? {},
      global_nonce: placement.globalPosition,
    },
    payload: event.payload,
  };
}

function newEventFromWire(meta: Fields, payload: Uint8Array): NewEvent {
  return { ...eventFieldsFromWire(meta), payload };
}

/**
 * Built as one object literal, without spreading a second object into it: V8 keeps a
 * literal on its fast path, and the subscription path runs this for every event.
 */
function recordedEventFromWire(data: Fields): RecordedEvent {
  const meta = data.message('meta');
  if (meta === undefined) throw new InvalidRequestError('the server sent an event without meta');
  const fields = eventFieldsFromWire(meta);
  return {
    eventId: fields.eventId,
    eventType: fields.eventType,
    eventVersion: fields.eventVersion,
    contentType: fields.contentType,
    payload: data.bytes('payload'),
    contentSchema: fields.contentSchema,
    correlationId: fields.correlationId,
    causationId: fields.causationId,
    actorId: fields.actorId,
    clientTimestampMs: fields.clientTimestampMs,
    payloadSha256: fields.payloadSha256,
    headers: fields.headers,
    tenantId: meta.string('tenant_id'),
    stream: { aggregateType: meta.string('aggregate_type'), aggregateId: meta.string('aggregate_id') },
    version: meta.uint64('aggregate_nonce'),
    globalPosition: meta.uint64('global_nonce'),
    recordedAtMs: meta.uint64('recorded_time_unix_ms'),
  };
}

function eventFieldsFromWire(meta: Fields): Omit<NewEvent, 'payload'> {
  const headers = meta.stringMap('headers');
  const sha256 = meta.bytes('payload_sha256');
  const clientTimestampMs = meta.uint64('timestamp_unix_ms');
  return {
    eventId: meta.string('event_id'),
    eventType: meta.string('event_type'),
    eventVersion: meta.uint32('event_version'),
    contentType: meta.optionalString('content_type') ?? DEFAULT_CONTENT_TYPE,
    contentSchema: meta.optionalString('content_schema'),
    correlationId: meta.optionalString('correlation_id'),
    causationId: meta.optionalString('causation_id'),
    actorId: meta.optionalString('actor_id'),
    clientTimestampMs: clientTimestampMs === 0 ? undefined : clientTimestampMs,
    payloadSha256: sha256.byteLength === 0 ? undefined : sha256,
    headers: Object.keys(headers).length === 0 ? undefined : headers,
  };
}

// ---- Append ---------------------------------------------------------------------------

/** The client fills each event's place in its stream, as the protocol asks. */
export function appendRequestToWire(request: AppendRequest): object {
  sendable('request', 'tenant id', request.tenantId);
  sendable('request', 'aggregate id', request.stream.aggregateId);
  sendable('request', 'aggregate type', request.stream.aggregateType);
  sendable('request', 'idempotency key', request.idempotencyKey);
  for (const [index, event] of request.events.entries()) {
    const where = `event ${index + 1}`;
    sendable(where, 'event id', event.eventId);
    sendable(where, 'event type', event.eventType);
    sendable(where, 'content type', event.contentType);
    sendable(where, 'content schema', event.contentSchema);
    sendable(where, 'correlation id', event.correlationId);
    sendable(where, 'causation id', event.causationId);
    sendable(where, 'actor id', event.actorId);
    // protobuf would send another number in their place (-1 as 4294967295, 1.5 as 1).
    const numbers = eventNumberProblem(event);
    if (numbers !== undefined) throw new InvalidRequestError(`${where}: ${numbers}`);
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      sendable(where, 'header name', name);
      sendable(where, 'header value', value);
    }
  }
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
  sendable('request', 'tenant id', request.tenantId);
  sendable('request', 'aggregate id', request.aggregateId);
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
  sendable('request', 'tenant id', request.tenantId);
  sendable('request', 'aggregate id prefix', request.aggregateIdPrefix);
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

/**
 * The wire speaks UTF-8, which has no encoding for half a surrogate pair: protobuf would
 * send U+FFFD in its place, and the store would keep, or look up, other text than the
 * caller gave. So a request carrying one is refused before it leaves, in the words every
 * store uses for it.
 */
function sendable(where: string, field: string, text: string | undefined): void {
  if (text !== undefined && LONE_SURROGATE.test(text)) throw new InvalidRequestError(`${where}: ${field} is not valid Unicode (a lone surrogate)`);
}

const LONE_SURROGATE = /\p{Cs}/u;

/** An event's metadata may leave out what its request already says: then it says the same. */
function namedOr(meta: Fields, field: string, fallback: string): string {
  return meta.optionalString(field) ?? fallback;
}
