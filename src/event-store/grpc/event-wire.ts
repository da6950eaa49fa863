// One event on the wire (`EventData`: its meta and its payload) and in the port's types,
// both ways: what every message of `eventstore.v1` that carries events is made of. The
// protocol's "nonce" is the port's version (`aggregate_nonce`) and position (`global_nonce`).

import type { NewEvent, RecordedEvent, StreamId } from '../event-store.ts';
import { DEFAULT_CONTENT_TYPE } from '../event-store.ts';
import { InvalidRequestError } from '../errors.ts';
import type { Fields } from './fields.ts';

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

export function newEventFromWire(meta: Fields, payload: Uint8Array): NewEvent {
  return { ...eventFieldsFromWire(meta), payload };
}

/**
 * An event of a ReadStream page (a Subscribe response is read by hand, in
 * subscribe-response-reader.ts). One object literal, no second object spread into it: V8
 * keeps a literal on its fast path, and a long stream's pages run this for every event.
 */
export function recordedEventFromWire(data: Fields): RecordedEvent {
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
