// The hand-written Subscribe response held to the proto, with proto-loader as the judge: what
// the server writes by hand, proto-loader reads as the same event; what proto-loader writes,
// the client reads by hand as the same event; and bytes that are not such a response are
// reported, never thrown.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/event-store/event-store.ts';
import { decodeSubscribeResponse, UnreadableResponse } from '../../../src/event-store/grpc/subscribe-response-reader.ts';
import { encodeSubscribeResponse, NO_EVENT } from '../../../src/event-store/grpc/subscribe-response-writer.ts';
import { methods } from '../../../src/event-store/grpc/proto.ts';
import { eventToWire } from '../../../src/event-store/grpc/event-wire.ts';
import { streamPageFromWire } from '../../../src/event-store/grpc/wire.ts';

describe('the Subscribe response, written and read by hand', () => {
  it('writes what proto-loader reads as the same event, and reads what proto-loader writes', () => {
    for (let i = 0; i < 500; i++) {
      const event = randomEvent(i);
      expect(byProtoLoader(encodeSubscribeResponse(event)), `event ${i}`).toEqual(plain(event));
      const written = methods.subscribe.responseSerialize({ event: eventToWire(event, event) });
      expect(asPlain(decodeSubscribeResponse(written)), `event ${i}`).toEqual(plain(event));
    }
  });

  it('writes nothing for a response without an event, and reads that as no event', () => {
    expect(encodeSubscribeResponse(NO_EVENT)).toHaveLength(0);
    expect(decodeSubscribeResponse(Buffer.alloc(0))).toBeUndefined();
    expect(decodeSubscribeResponse(methods.subscribe.responseSerialize({}))).toBeUndefined();
  });

  it('passes over fields it does not know, in any order, and merges a message given twice', () => {
    const event = randomEvent(1);
    const known = encodeSubscribeResponse(event);
    // An unknown varint (field 9) and an unknown string (field 10) around the known field.
    const withUnknown = Buffer.concat([Buffer.from([0x48, 0x96, 0x01]), known, Buffer.from([0x52, 0x02, 0x68, 0x69])]);
    expect(asPlain(decodeSubscribeResponse(withUnknown))).toEqual(plain(event));
    // The position alone again, in a second event field: protobuf merges it into the first.
    const later = Buffer.from([0x0a, 0x05, 0x0a, 0x03, 0x88, 0x01, 0x07]);
    expect(asPlain(decodeSubscribeResponse(Buffer.concat([known, later])))).toEqual(plain({ ...event, globalPosition: 7 }));
  });

  it('reports what it cannot read instead of throwing', () => {
    const known = encodeSubscribeResponse(randomEvent(2));
    const cases: Array<[Buffer, RegExp]> = [
      [known.subarray(0, known.length - 3), /longer than its message|cut short/],
      [Buffer.from([0x0a, 0x02, 0x12, 0x00]), /without meta/],
      [Buffer.from([0x0a, 0x0e, 0x0a, 0x0c, 0x88, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), /global_nonce: about 1\.845e\+19, beyond 9007199254740991/],
      [Buffer.from([0x0b]), /wire type 3/],
    ];
    for (const [bytes, reason] of cases) {
      const read = decodeSubscribeResponse(bytes);
      expect(read).toBeInstanceOf(UnreadableResponse);
      expect((read as UnreadableResponse).reason).toMatch(reason);
    }
    const largestSafe = { ...randomEvent(3), globalPosition: Number.MAX_SAFE_INTEGER, version: Number.MAX_SAFE_INTEGER };
    expect(asPlain(decodeSubscribeResponse(encodeSubscribeResponse(largestSafe)))).toEqual(plain(largestSafe));
  });

  it('writes a negative or fractional number as protobuf does, leaving the other fields whole', () => {
    // The rules refuse such numbers now; a row stored before them may still hold one.
    const event = { ...randomEvent(5), eventVersion: -1, clientTimestampMs: 7.9 };
    const bytes = encodeSubscribeResponse(event);
    expect(byProtoLoader(bytes)).toEqual(plain({ ...event, eventVersion: 2 ** 32 - 1, clientTimestampMs: 7 }));
    expect(asPlain(decodeSubscribeResponse(bytes))).toEqual(plain({ ...event, eventVersion: 2 ** 32 - 1, clientTimestampMs: 7 }));
    // A uint32 sent as ten bytes (another writer's -1) still reads as its low 32 bits.
    const longVersion = Buffer.from([0x0a, 0x0f, 0x0a, 0x0d, 0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x38, 0x01]);
    expect((asPlain(decodeSubscribeResponse(longVersion)))?.eventVersion).toBe(2 ** 32 - 1);
    const before = { ...randomEvent(6), clientTimestampMs: -5 };
    expect(String((decodeSubscribeResponse(encodeSubscribeResponse(before)) as UnreadableResponse).reason)).toMatch(/timestamp_unix_ms: about 1\.845e\+19/);
  });

  it('writes events larger than its working buffer, text and payload alike', () => {
    const event = { ...randomEvent(4), headers: { big: 'é'.repeat(40_000) }, correlationId: 'c'.repeat(20_000), payload: randomBytes(3_000_000) };
    expect(byProtoLoader(encodeSubscribeResponse(event))).toEqual(plain(event));
    expect(asPlain(decodeSubscribeResponse(encodeSubscribeResponse(event)))).toEqual(plain(event));
  });
});

// ---- fixtures -------------------------------------------------------------------------

/**
 * proto-loader's reading of hand-written bytes. A SubscribeResponse holding an event is
 * byte for byte a ReadStreamResponse holding that one event (field 1 in both), so the
 * client's ReadStream path, checks included, reads it.
 */
function byProtoLoader(bytes: Buffer): Comparable | undefined {
  return plain(streamPageFromWire(methods.readStream.responseDeserialize(bytes)).events[0]);
}

function asPlain(read: RecordedEvent | UnreadableResponse | undefined): Comparable | undefined {
  if (read instanceof UnreadableResponse) throw new Error(read.reason);
  return plain(read);
}

type Comparable = Omit<RecordedEvent, 'payload' | 'payloadSha256'> & { payload: string; payloadSha256?: string };

/** Byte fields as base64, so events compare by content (and quickly) whatever view holds them. */
function plain(event: RecordedEvent | undefined): Comparable | undefined {
  if (event === undefined) return undefined;
  const { payload, payloadSha256, ...rest } = event;
  return {
    ...rest,
    payload: Buffer.from(payload).toString('base64'),
    ...(payloadSha256 === undefined ? {} : { payloadSha256: Buffer.from(payloadSha256).toString('base64') }),
  };
}

const TEXTS = ['', 'a', 'acc-1', 'naïve café', '€ and 😀', 'x'.repeat(41), 'y'.repeat(42), 'z'.repeat(43), 'ü'.repeat(42), 'long-'.repeat(60)];
const NUMBERS = [1, 127, 128, 300, 16_383, 16_384, 2 ** 31, 2 ** 32 + 5, 2 ** 40, Number.MAX_SAFE_INTEGER];

/** An event with every field varied: given or not, short or long, ASCII or not, small or large. */
function randomEvent(seed: number): RecordedEvent {
  const pick = <T>(items: readonly T[], salt: number): T => items[(seed * 7 + salt * 13) % items.length]!;
  const optional = (salt: number): string | undefined => {
    const text = pick(TEXTS, salt);
    return text === '' ? undefined : text;
  };
  const headerCount = seed % 4;
  const headers = Object.fromEntries(Array.from({ length: headerCount }, (_, i) => [`h${i}-${pick(TEXTS, i + 20)}`, pick(TEXTS, i + 30)]));
  return {
    eventId: `evt-${seed}-${pick(TEXTS, 1)}`,
    eventType: `Type${pick(TEXTS, 2)}`,
    eventVersion: pick([1, 2, 300, 2 ** 32 - 1], 3),
    contentType: pick(['application/json', 'application/octet-stream', 'text/plain; charset=utf-8'], 4),
    payload: Buffer.from(randomBytes(seed % 5 === 0 ? 0 : (seed * 37) % 2000)),
    contentSchema: optional(5),
    correlationId: optional(6),
    causationId: optional(7),
    actorId: optional(8),
    clientTimestampMs: seed % 3 === 0 ? undefined : pick(NUMBERS, 9),
    payloadSha256: seed % 2 === 0 ? undefined : Buffer.from(randomBytes(32)),
    headers: headerCount === 0 ? undefined : headers,
    tenantId: `tenant-${pick(TEXTS, 10)}`,
    stream: { aggregateType: `Agg${pick(TEXTS, 11)}`, aggregateId: `id-${pick(TEXTS, 12)}` },
    version: pick(NUMBERS, 13),
    globalPosition: pick(NUMBERS, 14),
    recordedAtMs: pick(NUMBERS, 15),
  };
}
