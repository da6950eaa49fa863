// The client's side of the Subscribe response (see subscribe-response-writer.ts for why it
// is done by hand): read straight from protobuf's wire format into the port's RecordedEvent.
// proto-loader's decoding and our field checks took the client, the bound of a catch-up,
// 3 µs an event. subscribe-response.unit.test.ts holds it to the proto.

import type { RecordedEvent } from '../event-store.ts';
import { DEFAULT_CONTENT_TYPE } from '../event-store.ts';
import { ProtobufReader } from './protobuf-reader.ts';

const EMPTY = Buffer.alloc(0);

/** A response the client cannot read, with why: the subscription turns it into an error. */
export class UnreadableResponse {
  constructor(readonly reason: string) {}
}

/**
 * The event of a `SubscribeResponse`, undefined when it has none (the caught-up marker or a
 * heartbeat), or why it cannot be read. Never throws: grpc-js would make a throw into a
 * transport error, and the client would reconnect to be sent the same bytes again.
 */
export function decodeSubscribeResponse(bytes: Buffer): RecordedEvent | UnreadableResponse | undefined {
  try {
    const reader = new ProtobufReader(bytes, 0, bytes.byteLength);
    let event: EventParts | undefined;
    while (reader.more()) {
      const tag = reader.varint();
      // A message given twice is merged, as protobuf does: into the same parts.
      if (tag === 0x0a) event = readEventData(reader.sub(), event ?? newParts());
      else reader.skip(tag);
    }
    return event === undefined ? undefined : recordedEvent(event);
  } catch (error) {
    return new UnreadableResponse(error instanceof Error ? error.message : String(error));
  }
}

interface EventParts {
  metaSeen: boolean;
  payload: Uint8Array;
  eventId: string;
  aggregateId: string;
  aggregateType: string;
  version: number;
  eventType: string;
  eventVersion: number;
  contentType: string;
  contentSchema: string;
  correlationId: string;
  causationId: string;
  actorId: string;
  tenantId: string;
  clientTimestampMs: number;
  recordedAtMs: number;
  payloadSha256: Uint8Array;
  headers: Record<string, string> | undefined;
  globalPosition: number;
}

function newParts(): EventParts {
  return {
    metaSeen: false, payload: EMPTY, eventId: '', aggregateId: '', aggregateType: '', version: 0, eventType: '', eventVersion: 0,
    contentType: '', contentSchema: '', correlationId: '', causationId: '', actorId: '', tenantId: '', clientTimestampMs: 0,
    recordedAtMs: 0, payloadSha256: EMPTY, headers: undefined, globalPosition: 0,
  };
}

function readEventData(reader: ProtobufReader, parts: EventParts): EventParts {
  while (reader.more()) {
    const tag = reader.varint();
    if (tag === 0x0a) {
      parts.metaSeen = true;
      readMeta(reader.sub(), parts);
    } else if (tag === 0x12) {
      parts.payload = reader.bytes();
    } else {
      reader.skip(tag);
    }
  }
  return parts;
}

function readMeta(reader: ProtobufReader, parts: EventParts): void {
  while (reader.more()) {
    const tag = reader.varint();
    switch (tag) {
      case (1 << 3) | 2: parts.eventId = reader.text(); break;
      case (2 << 3) | 2: parts.aggregateId = reader.text(); break;
      case (3 << 3) | 2: parts.aggregateType = reader.text(); break;
      case 4 << 3: parts.version = reader.uint64('aggregate_nonce'); break;
      case (5 << 3) | 2: parts.eventType = reader.text(); break;
      case 6 << 3: parts.eventVersion = reader.uint32(); break;
      case (7 << 3) | 2: parts.contentType = reader.text(); break;
      case (8 << 3) | 2: parts.contentSchema = reader.text(); break;
      case (9 << 3) | 2: parts.correlationId = reader.text(); break;
      case (10 << 3) | 2: parts.causationId = reader.text(); break;
      case (11 << 3) | 2: parts.actorId = reader.text(); break;
      case (12 << 3) | 2: parts.tenantId = reader.text(); break;
      case 13 << 3: parts.clientTimestampMs = reader.uint64('timestamp_unix_ms'); break;
      case 14 << 3: parts.recordedAtMs = reader.uint64('recorded_time_unix_ms'); break;
      case (15 << 3) | 2: parts.payloadSha256 = reader.bytes(); break;
      case (16 << 3) | 2: readHeader(reader.sub(), (parts.headers ??= {})); break;
      case 17 << 3: parts.globalPosition = reader.uint64('global_nonce'); break;
      default: reader.skip(tag);
    }
  }
}

function readHeader(reader: ProtobufReader, headers: Record<string, string>): void {
  let name = '';
  let value = '';
  while (reader.more()) {
    const tag = reader.varint();
    if (tag === 0x0a) name = reader.text();
    else if (tag === 0x12) value = reader.text();
    else reader.skip(tag);
  }
  headers[name] = value;
}

/** The port's event, with the wire's "empty" read as "not given", as wire.ts reads it. */
function recordedEvent(parts: EventParts): RecordedEvent {
  if (!parts.metaSeen) throw new Error('the server sent an event without meta');
  return {
    eventId: parts.eventId,
    eventType: parts.eventType,
    eventVersion: parts.eventVersion,
    contentType: parts.contentType === '' ? DEFAULT_CONTENT_TYPE : parts.contentType,
    payload: parts.payload,
    contentSchema: parts.contentSchema === '' ? undefined : parts.contentSchema,
    correlationId: parts.correlationId === '' ? undefined : parts.correlationId,
    causationId: parts.causationId === '' ? undefined : parts.causationId,
    actorId: parts.actorId === '' ? undefined : parts.actorId,
    clientTimestampMs: parts.clientTimestampMs === 0 ? undefined : parts.clientTimestampMs,
    payloadSha256: parts.payloadSha256.byteLength === 0 ? undefined : parts.payloadSha256,
    headers: parts.headers === undefined || Object.keys(parts.headers).length === 0 ? undefined : parts.headers,
    tenantId: parts.tenantId,
    stream: { aggregateType: parts.aggregateType, aggregateId: parts.aggregateId },
    version: parts.version,
    globalPosition: parts.globalPosition,
    recordedAtMs: parts.recordedAtMs,
  };
}

