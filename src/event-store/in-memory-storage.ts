// How the in-memory store keeps its events small, so the memory backend holds millions:
// payloads copied into shared blocks, the few strings that repeat on every event (types,
// content types, tenants) kept once, and each event one object of one fixed shape.

import type { AppendRequest, NewEvent, RecordedEvent, StreamId } from './event-store.ts';
import { DEFAULT_CONTENT_TYPE } from './event-store.ts';

/** Where an event lands: decided by the store, shared by every event of its stream. */
export interface Placement {
  readonly tenantId: string;
  readonly stream: StreamId;
  readonly version: number;
  readonly globalPosition: number;
  readonly recordedAtMs: number;
}

export class EventStorage {
  private readonly payloads = new PayloadArena();
  private readonly strings = new StringPool();

  /** The event as stored: one object literal, so every stored event shares one hidden class. */
  store(event: NewEvent, placement: Placement, idempotencyKey: string | undefined): RecordedEvent {
    // A command's id is usually both its append's key and its events' correlation id: one string.
    const correlationId = event.correlationId === idempotencyKey ? idempotencyKey : event.correlationId;
    return {
      eventId: event.eventId,
      eventType: this.strings.intern(event.eventType),
      eventVersion: event.eventVersion,
      contentType: this.strings.intern(event.contentType === '' ? DEFAULT_CONTENT_TYPE : event.contentType),
      // A payload from the gRPC server is a view into its whole request's buffer: kept as
      // is, it would keep that buffer alive for as long as the event lives.
      payload: this.payloads.copy(event.payload),
      contentSchema: event.contentSchema,
      correlationId,
      // Often the same id (a command's events are caused by it): then one string for both.
      causationId: event.causationId === correlationId ? correlationId : event.causationId,
      actorId: event.actorId,
      clientTimestampMs: event.clientTimestampMs,
      payloadSha256: event.payloadSha256 === undefined ? undefined : event.payloadSha256.slice(),
      headers: event.headers,
      tenantId: placement.tenantId,
      stream: placement.stream,
      version: placement.version,
      globalPosition: placement.globalPosition,
      recordedAtMs: placement.recordedAtMs,
    };
  }

  /** The one string the store keeps for this text, e.g. a tenant id or an aggregate type. */
  intern(text: string): string {
    return this.strings.intern(text);
  }
}

/**
 * Whether a retried append is the batch its idempotency key first answered, by what
 * `batchFingerprint` (rules.ts) covers: the stream, and each event's id, type, schema
 * version, content type and payload bytes, in order. (The expected version is checked by
 * the caller.) Client clocks and correlation ids may be restamped on a retry.
 */
export function isSameBatch(request: AppendRequest, stream: StreamId, stored: readonly RecordedEvent[]): boolean {
  if (request.stream.aggregateType !== stream.aggregateType || request.events.length !== stored.length) return false;
  return request.events.every((event, index) => {
    const earlier = stored[index];
    return earlier !== undefined
      && event.eventId === earlier.eventId
      && event.eventType === earlier.eventType
      && event.eventVersion === earlier.eventVersion
      && (event.contentType === '' ? DEFAULT_CONTENT_TYPE : event.contentType) === earlier.contentType
      && Buffer.compare(event.payload, earlier.payload) === 0;
  });
}

/**
 * Payload bytes copied into large shared blocks: a small payload costs its own bytes and
 * a view, not a buffer of its own with that buffer's bookkeeping.
 */
class PayloadArena {
  private static readonly BLOCK_BYTES = 256 * 1024;
  private block = new Uint8Array(PayloadArena.BLOCK_BYTES);
  private used = 0;

  copy(bytes: Uint8Array): Uint8Array {
    // A large payload gets a buffer of its own rather than wasting the rest of a block.
    if (bytes.byteLength > PayloadArena.BLOCK_BYTES / 8) return bytes.slice();
    if (this.used + bytes.byteLength > this.block.byteLength) {
      this.block = new Uint8Array(PayloadArena.BLOCK_BYTES);
      this.used = 0;
    }
    const copy = this.block.subarray(this.used, this.used + bytes.byteLength);
    copy.set(bytes);
    this.used += bytes.byteLength;
    return copy;
  }
}

/**
 * Strings that repeat from event to event, each kept once. Bounded, so a client sending a
 * new type on every event fills the pool once and then is simply stored as it comes.
 */
class StringPool {
  private static readonly MAX_STRINGS = 10_000;
  private static readonly MAX_LENGTH = 200;
  private readonly strings = new Map<string, string>();

  intern(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size < StringPool.MAX_STRINGS && text.length <= StringPool.MAX_LENGTH) this.strings.set(text, text);
    return text;
  }
}
