// How the in-memory store keeps its events small, so the memory backend holds millions:
// payloads copied into shared blocks, what repeats on every event (its kind: type, schema
// version, content type; tenants; stream types) kept once, and each event one compact object of one class,
// turned into a plain RecordedEvent only when someone reads it.

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

/**
 * The rarely set parts of an event, kept apart so the common event carries one empty slot
 * for all of them instead of one per field.
 */
interface RareFields {
  readonly contentSchema: string | undefined;
  readonly causationId: string | undefined;
  readonly actorId: string | undefined;
  readonly payloadSha256: Uint8Array | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
}

/**
 * An event as the memory store keeps it. Every field is a pointer or a small integer:
 * the payload is an offset into a shared block rather than a view object of its own, and
 * the two clocks are small offsets (integers V8 keeps unboxed) rather than epoch
 * milliseconds (doubles it would box, 16 bytes each). Readers never see this shape:
 * `EventStorage.recorded` hands out a plain RecordedEvent.
 */
export class StoredEvent {
  constructor(
    readonly eventId: string,
    /** Type, schema version and content type: the same few on most events, so kept once (EventKinds). */
    readonly kind: EventKind,
    readonly correlationId: string | undefined,
    readonly tenantId: string,
    readonly stream: StreamId,
    readonly version: number,
    readonly globalPosition: number,
    /** Milliseconds after the storage's epoch. */
    readonly recordedAfterEpochMs: number,
    /** The writer's clock minus the store's at commit, or undefined when the writer sent none. */
    readonly clientClockSkewMs: number | undefined,
    readonly payloadBlock: Uint8Array,
    readonly payloadStart: number,
    readonly payloadEnd: number,
    readonly rare: RareFields | undefined,
  ) {}

  payload(): Uint8Array {
    return this.payloadBlock.subarray(this.payloadStart, this.payloadEnd);
  }
}

export class EventStorage {
  private readonly payloads = new PayloadArena();
  private readonly strings = new StringPool();
  private readonly kinds = new EventKinds();
  /** Commit times are kept as offsets from here, so that they stay small integers. */
  private readonly epochMs = Date.now();

  store(event: NewEvent, placement: Placement, idempotencyKey: string | undefined): StoredEvent {
    // A command's id is usually both its append's key and its events' correlation id: one string.
    const correlationId = event.correlationId === idempotencyKey ? idempotencyKey : event.correlationId;
    // Often the same id (a command's events are caused by it): then nothing more to keep.
    // Otherwise, given or not, the causation id is kept with the rare parts.
    const hasRare = event.contentSchema || event.causationId !== correlationId || event.actorId !== undefined
      || event.payloadSha256 !== undefined || event.headers !== undefined;
    const rare = hasRare
      ? { contentSchema: event.contentSchema, causationId: event.causationId, actorId: event.actorId, payloadSha256: event.payloadSha256?.slice(), headers: event.headers }
      : undefined;
    // A payload from the gRPC server is a view into its whole request's buffer: kept as
    // is, it would keep that buffer alive for as long as the event lives.
    const { block, start, end } = this.payloads.copy(event.payload);
    return new StoredEvent(
      event.eventId,
      this.kinds.of(event.eventType, event.eventVersion, event.contentType === '' ? DEFAULT_CONTENT_TYPE : event.contentType),
      correlationId,
      placement.tenantId,
      placement.stream,
      placement.version,
      placement.globalPosition,
      placement.recordedAtMs - this.epochMs,
      event.clientTimestampMs === undefined ? undefined : event.clientTimestampMs - placement.recordedAtMs,
      block,
      start,
      end,
      rare,
    );
  }

  /** The stored event as every reader of the store sees it: a plain object, made per read. */
  recorded(stored: StoredEvent): RecordedEvent {
    const recordedAtMs = this.epochMs + stored.recordedAfterEpochMs;
    const { rare, kind } = stored;
    return {
      eventId: stored.eventId,
      eventType: kind.eventType,
      eventVersion: kind.eventVersion,
      contentType: kind.contentType,
      payload: stored.payload(),
      contentSchema: rare?.contentSchema,
      correlationId: stored.correlationId,
      causationId: rare === undefined ? stored.correlationId : rare.causationId,
      actorId: rare?.actorId,
      clientTimestampMs: stored.clientClockSkewMs === undefined ? undefined : recordedAtMs + stored.clientClockSkewMs,
      payloadSha256: rare?.payloadSha256,
      headers: rare?.headers,
      tenantId: stored.tenantId,
      stream: stored.stream,
      version: stored.version,
      globalPosition: stored.globalPosition,
      recordedAtMs,
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
export function isSameBatch(request: AppendRequest, stream: StreamId, stored: readonly StoredEvent[]): boolean {
  if (request.stream.aggregateType !== stream.aggregateType || request.events.length !== stored.length) return false;
  return request.events.every((event, index) => {
    const earlier = stored[index];
    return earlier !== undefined
      && event.eventId === earlier.eventId
      && event.eventType === earlier.kind.eventType
      && event.eventVersion === earlier.kind.eventVersion
      && (event.contentType === '' ? DEFAULT_CONTENT_TYPE : event.contentType) === earlier.kind.contentType
      && Buffer.compare(event.payload, earlier.payload()) === 0;
  });
}

/**
 * Payload bytes copied into large shared blocks: a small payload costs its own bytes and
 * two offsets, not a buffer of its own with that buffer's bookkeeping.
 */
class PayloadArena {
  private static readonly BLOCK_BYTES = 256 * 1024;
  private block = new Uint8Array(PayloadArena.BLOCK_BYTES);
  private used = 0;

  copy(bytes: Uint8Array): { block: Uint8Array; start: number; end: number } {
    // A large payload gets a block of its own rather than wasting the rest of a shared one.
    if (bytes.byteLength > PayloadArena.BLOCK_BYTES / 8) return { block: bytes.slice(), start: 0, end: bytes.byteLength };
    if (this.used + bytes.byteLength > this.block.byteLength) {
      this.block = new Uint8Array(PayloadArena.BLOCK_BYTES);
      this.used = 0;
    }
    const start = this.used;
    this.block.set(bytes, start);
    this.used += bytes.byteLength;
    return { block: this.block, start, end: this.used };
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

export interface EventKind {
  readonly eventType: string;
  readonly eventVersion: number;
  readonly contentType: string;
}

/**
 * The kinds of event a store holds, each kept once: a bank has a handful, so three fields
 * of every event become one pointer. Bounded like the string pool: past it, a kind is
 * simply kept with its event.
 */
class EventKinds {
  private static readonly MAX_KINDS = 10_000;
  private readonly byType = new Map<string, EventKind[]>();
  private count = 0;

  of(eventType: string, eventVersion: number, contentType: string): EventKind {
    const known = this.byType.get(eventType);
    const found = known?.find((kind) => kind.eventVersion === eventVersion && kind.contentType === contentType);
    if (found !== undefined) return found;
    const kind = { eventType, eventVersion, contentType };
    if (this.count < EventKinds.MAX_KINDS && eventType.length <= 200 && contentType.length <= 200) {
      this.count++;
      if (known === undefined) this.byType.set(eventType, [kind]);
      else known.push(kind);
    }
    return kind;
  }
}
