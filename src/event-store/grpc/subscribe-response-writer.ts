// The one message a catch-up carries a hundred thousand times, `SubscribeResponse`, written
// by the server by hand, straight from the port's RecordedEvent into protobuf's wire format:
// proto-loader took 5.2 µs an event, a fifth of the server's thread in a PostgreSQL
// catch-up. Every other message goes through proto-loader and wire.ts. A newcomer can skip
// this file: the proto says what it writes, and subscribe-response.unit.test.ts holds it to
// the proto with proto-loader as the judge (the client reads it in subscribe-response-reader.ts).

import type { RecordedEvent } from '../event-store.ts';

/** What the server writes for a caught-up marker or a heartbeat: a response with no event. */
export const NO_EVENT = Object.freeze({});

const EMPTY = Buffer.alloc(0);

/** Where the metadata is put together; it grows for an event whose text is larger. */
let scratch = Buffer.allocUnsafe(16 * 1024);
/** Where the metadata starts in `scratch` (what encloses it is written into the output). */
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
  if (value > 0 && Number.isInteger(value)) return writeVarint(scratch, at, value);
  return writeUnusual(at, tag === 6 << 3 ? 32 : 64, value);
}

/**
 * A negative or fractional number, which the rules refuse but a row written before them
 * may hold: written as protobuf writes it (cut to a whole number, a negative one as its
 * two's complement in 32 or 64 bits), so that every reader reads the same number.
 */
function writeUnusual(start: number, bits: 32 | 64, value: number): number {
  let rest = BigInt.asUintN(bits, BigInt(Math.trunc(value)));
  let at = start;
  while (rest >= 0x80n) {
    scratch[at++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  scratch[at++] = Number(rest);
  return at;
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

