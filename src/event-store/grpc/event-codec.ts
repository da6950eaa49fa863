// The one message a catch-up carries a hundred thousand times, `SubscribeResponse`, written
// by the server and read by the client by hand, straight between the port's RecordedEvent
// and protobuf's wire format. Through proto-loader, writing one took the server 5.2 µs and
// reading one (with the field checks) the client 3 µs, a third of what the bare stream
// costs per message; here each takes a fraction of that. Every other message goes through
// proto-loader and wire.ts. A newcomer can skip this file: the proto says what it writes,
// and event-codec.unit.test.ts holds it to the proto both ways, with proto-loader as judge.

import type { RecordedEvent } from '../event-store.ts';
import { DEFAULT_CONTENT_TYPE } from '../event-store.ts';

// ---- writing (the server) ----------------------------------------------------------------

/** What the server writes for a caught-up marker or a heartbeat: a response with no event. */
export const NO_EVENT = Object.freeze({});

const EMPTY = Buffer.alloc(0);

/** Where the metadata is put together; it grows for an event whose text is larger. */
let scratch = Buffer.allocUnsafe(16 * 1024);
/** Room left in front of the metadata for the three tags and lengths that enclose it. */
const HEAD_ROOM = 16;

/**
 * `SubscribeResponse { event: EventData { meta: EventMetadata, payload } }`. Fields at their
 * default (empty text, zero) are left out, as proto3 allows: every reader takes absence for
 * the default.
 */
export function encodeSubscribeResponse(value: RecordedEvent | typeof NO_EVENT): Buffer {
  if (value === NO_EVENT) return EMPTY;
  const event = value as RecordedEvent;
  const metaEnd = writeMeta(event, HEAD_ROOM);
  const metaLength = metaEnd - HEAD_ROOM;
  const payload = event.payload;
  const payloadField = payload.byteLength === 0 ? 0 : 1 + varintSize(payload.byteLength) + payload.byteLength;
  const eventLength = 1 + varintSize(metaLength) + metaLength + payloadField;
  const total = 1 + varintSize(eventLength) + eventLength;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  out[at++] = 0x0a; // SubscribeResponse.event, field 1, length-delimited
  at = writeVarint(out, at, eventLength);
  out[at++] = 0x0a; // EventData.meta, field 1
  at = writeVarint(out, at, metaLength);
  at += scratch.copy(out, at, HEAD_ROOM, metaEnd);
  if (payloadField > 0) {
    out[at++] = 0x12; // EventData.payload, field 2
    at = writeVarint(out, at, payload.byteLength);
    out.set(payload, at);
  }
  return out;
}

/** EventMetadata, fields in number order, into `scratch` from `start`; returns where it ends. */
function writeMeta(event: RecordedEvent, start: number): number {
  let at = start;
  at = writeText(at, 1, event.eventId);
  at = writeText(at, 2, event.stream.aggregateId);
  at = writeText(at, 3, event.stream.aggregateType);
  at = writeNumber(at, 4 << 3, event.version);
  at = writeText(at, 5, event.eventType);
  at = writeNumber(at, 6 << 3, event.eventVersion);
  at = writeText(at, 7, event.contentType);
  at = writeText(at, 8, event.contentSchema);
  at = writeText(at, 9, event.correlationId);
  at = writeText(at, 10, event.causationId);
  at = writeText(at, 11, event.actorId);
  at = writeText(at, 12, event.tenantId);
  at = writeNumber(at, 13 << 3, event.clientTimestampMs ?? 0);
  at = writeNumber(at, 14 << 3, event.recordedAtMs);
  at = writeBytes(at, 15, event.payloadSha256);
  if (event.headers !== undefined) {
    for (const [name, value] of Object.entries(event.headers)) at = writeHeader(at, name, value);
  }
  return writeNumber(at, 17 << 3, event.globalPosition);
}

/** One map entry of `headers` (field 16): a message of its own, key 1 and value 2. */
function writeHeader(start: number, name: string, value: string): number {
  const nameBytes = Buffer.byteLength(name);
  const valueBytes = Buffer.byteLength(value);
  const entry = 1 + varintSize(nameBytes) + nameBytes + 1 + varintSize(valueBytes) + valueBytes;
  room(start, entry + 8);
  let at = start;
  scratch[at++] = 0x82; // field 16, length-delimited: the tag takes two bytes
  scratch[at++] = 0x01;
  at = writeVarint(scratch, at, entry);
  scratch[at++] = 0x0a;
  at = writeVarint(scratch, at, nameBytes);
  at += scratch.write(name, at, 'utf8');
  scratch[at++] = 0x12;
  at = writeVarint(scratch, at, valueBytes);
  return at + scratch.write(value, at, 'utf8');
}

function writeText(start: number, field: number, text: string | undefined): number {
  if (text === undefined || text === '') return start;
  // Up to 42 UTF-16 units make at most 126 bytes: the length fits one byte, written after.
  if (text.length <= 42) {
    room(start, 130);
    scratch[start] = (field << 3) | 2;
    const written = scratch.write(text, start + 2, 'utf8');
    scratch[start + 1] = written;
    return start + 2 + written;
  }
  const bytes = Buffer.byteLength(text);
  room(start, bytes + 12);
  scratch[start] = (field << 3) | 2;
  const at = writeVarint(scratch, start + 1, bytes);
  return at + scratch.write(text, at, 'utf8');
}

function writeBytes(start: number, field: number, bytes: Uint8Array | undefined): number {
  if (bytes === undefined || bytes.byteLength === 0) return start;
  room(start, bytes.byteLength + 12);
  scratch[start] = (field << 3) | 2;
  const at = writeVarint(scratch, start + 1, bytes.byteLength);
  scratch.set(bytes, at);
  return at + bytes.byteLength;
}

/** A varint field (uint32 or uint64); `tag` is its field number shifted, wire type 0. */
function writeNumber(start: number, tag: number, value: number): number {
  if (value === 0) return start;
  room(start, 16);
  const at = writeVarint(scratch, start, tag);
  return writeVarint(scratch, at, value);
}

/** Makes sure `scratch` holds `bytes` more from `at`, keeping what is written so far. */
function room(at: number, bytes: number): void {
  if (at + bytes <= scratch.length) return;
  const larger = Buffer.allocUnsafe(Math.max(scratch.length * 2, at + bytes));
  scratch.copy(larger, 0, 0, at);
  scratch = larger;
}

/** Base 128, low groups first; by division, since bit operators stop at 32 bits. */
function writeVarint(out: Buffer, start: number, value: number): number {
  let at = start;
  let rest = value;
  while (rest >= 0x80) {
    out[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[at++] = rest;
  return at;
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

// ---- reading (the client) ----------------------------------------------------------------

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
    const reader = new Reader(bytes, 0, bytes.byteLength);
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

function readEventData(reader: Reader, parts: EventParts): EventParts {
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

function readMeta(reader: Reader, parts: EventParts): void {
  while (reader.more()) {
    const tag = reader.varint();
    switch (tag) {
      case (1 << 3) | 2: parts.eventId = reader.text(); break;
      case (2 << 3) | 2: parts.aggregateId = reader.text(); break;
      case (3 << 3) | 2: parts.aggregateType = reader.text(); break;
      case 4 << 3: parts.version = reader.uint64('aggregate_nonce'); break;
      case (5 << 3) | 2: parts.eventType = reader.text(); break;
      // uint32: a larger number is cut to its low 32 bits, as protobuf does.
      case 6 << 3: parts.eventVersion = reader.varint() % 0x1_0000_0000; break;
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

function readHeader(reader: Reader, headers: Record<string, string>): void {
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

/** Protobuf's wire format, read forward between `at` and `end`; throws on bytes that are not it. */
class Reader {
  constructor(
    private readonly buffer: Buffer,
    private at: number,
    private readonly end: number,
  ) {}

  more(): boolean {
    return this.at < this.end;
  }

  /** Up to 64 bits; past 2^53 the number is rounded, but never down to a safe integer. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let groups = 0; groups < 10; groups++) {
      if (this.at >= this.end) throw new Error('a number is cut short');
      const byte = this.buffer[this.at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new Error('a number runs past 64 bits');
  }

  uint64(field: string): number {
    const value = this.varint();
    if (value > Number.MAX_SAFE_INTEGER) {
      throw new Error(`${field}: about ${value.toExponential(3)}, beyond ${Number.MAX_SAFE_INTEGER}, the largest supported value`);
    }
    return value;
  }

  /** A length-delimited field's bounds, the reader moved past it. */
  private span(): [number, number] {
    const length = this.varint();
    const start = this.at;
    if (start + length > this.end) throw new Error('a field is longer than its message');
    this.at = start + length;
    return [start, start + length];
  }

  text(): string {
    const [start, end] = this.span();
    return this.buffer.toString('utf8', start, end);
  }

  /** A view into the response, not a copy: the response is the event's alone. */
  bytes(): Uint8Array {
    const [start, end] = this.span();
    return this.buffer.subarray(start, end);
  }

  sub(): Reader {
    const [start, end] = this.span();
    return new Reader(this.buffer, start, end);
  }

  /** A field this reader does not know, or knows with another wire type: passed over. */
  skip(tag: number): void {
    switch (tag % 8) {
      case 0:
        this.varint();
        return;
      case 1:
        this.at += 8;
        break;
      case 2:
        this.span();
        return;
      case 5:
        this.at += 4;
        break;
      default:
        throw new Error(`wire type ${tag % 8} is not used by this protocol`);
    }
    if (this.at > this.end) throw new Error('a field is longer than its message');
  }
}
