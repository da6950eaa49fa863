// The event store port: the one interface the write side appends through and the read
// side subscribes through. The in-memory store, the PostgreSQL store and the gRPC client
// implement it; the gRPC server serves any implementation. It carries everything the
// `eventstore.v1` wire contract carries, so nothing is lost between them.

/**
 * A stream is one aggregate's history. Within a tenant the aggregate id names the stream
 * (the wire contract reads and subscribes by aggregate id alone); the aggregate type is
 * fixed by the stream's first append and every later append must name the same type.
 */
export interface StreamId {
  readonly aggregateType: string;
  readonly aggregateId: string;
}

/** An event as the writer hands it to the store, before it has a place in any log. */
export interface NewEvent {
  /** Unique per tenant; a UUIDv7 so ids sort roughly by creation time. */
  readonly eventId: string;
  /** e.g. `MoneyDeposited`. */
  readonly eventType: string;
  /** Schema version of this event type's payload, so readers can upcast old shapes. */
  readonly eventVersion: number;
  /** e.g. `application/json`; the store never looks inside the payload. */
  readonly contentType: string;
  readonly payload: Uint8Array;
  readonly contentSchema?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly actorId?: string;
  /** The writer's clock, milliseconds since the epoch; informative only. */
  readonly clientTimestampMs?: number;
  readonly payloadSha256?: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a writer's codec makes of one domain event; the command handler adds the ids. */
export type EncodedEvent = Pick<NewEvent, 'eventType' | 'eventVersion' | 'contentType' | 'payload'>;

/** An event as the store gives it back: where it sits in its stream and in the global log. */
export interface RecordedEvent extends NewEvent {
  readonly tenantId: string;
  readonly stream: StreamId;
  /** 1-based, consecutive within the stream (the wire's `aggregate_nonce`). */
  readonly version: number;
  /** Strictly increasing across the store, starting at 1 (the wire's `global_nonce`). */
  readonly globalPosition: number;
  /** The store's commit time, milliseconds since the epoch. */
  readonly recordedAtMs: number;
}

export interface AppendRequest {
  readonly tenantId: string;
  readonly stream: StreamId;
  /** The stream's head the writer decided against; 0 means the stream must not exist yet. */
  readonly expectedVersion: number;
  /** Retrying the same batch under the same key returns the first answer, once committed. */
  readonly idempotencyKey?: string;
  /** Versions expectedVersion+1, +2, ... in this order; all commit or none does. */
  readonly events: readonly NewEvent[];
}

export interface AppendResult {
  readonly lastVersion: number;
  readonly lastGlobalPosition: number;
}

export type ReadDirection = 'forward' | 'backward';

export interface ReadStreamRequest {
  readonly tenantId: string;
  readonly aggregateId: string;
  /**
   * Forward: from this version up (0 and 1 both mean the first event).
   * Backward: from this version down (0 means from the head).
   */
  readonly fromVersion: number;
  /** 0 means the store's page limit; larger values are cut to it. */
  readonly maxCount: number;
  readonly direction: ReadDirection;
}

export interface StreamPage {
  readonly events: readonly RecordedEvent[];
  /** True when no event is left beyond this page in the direction read. */
  readonly isEnd: boolean;
  /** Where the next page starts (pass it as `fromVersion`). */
  readonly nextFromVersion: number;
}

export interface SubscribeRequest {
  readonly tenantId: string;
  /** Inclusive; 0 (or 1) means the beginning of the log. */
  readonly fromPosition: number;
  /** Only streams whose aggregate id starts with this; empty means all. */
  readonly aggregateIdPrefix?: string;
  /** Ends the subscription: the iteration finishes quietly, without an error. */
  readonly signal?: AbortSignal;
}

/**
 * What a subscription yields: every matching event in global order, and once, when the
 * catch-up from the log is done and delivery is live from then on, a `caught-up` marker.
 */
export type SubscriptionMessage =
  | { readonly kind: 'event'; readonly event: RecordedEvent }
  | { readonly kind: 'caught-up' };

export interface EventStore {
  append(request: AppendRequest): Promise<AppendResult>;
  readStream(request: ReadStreamRequest): Promise<StreamPage>;
  subscribe(request: SubscribeRequest): AsyncIterable<SubscriptionMessage>;
  /** Releases connections and ends open subscriptions. */
  close(): Promise<void>;
}

/** What an event's content type is taken to be when its writer leaves it empty. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** How many events one page of a read may hold at most, in every implementation. */
export const MAX_PAGE_SIZE = 1000;
// How many events an append may carry, how large a payload may be and the rest: limits.ts.

/** Reads a whole stream forward, page by page: what a command handler folds over. */
export async function readWholeStream(
  store: EventStore,
  request: { readonly tenantId: string; readonly aggregateId: string },
): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let fromVersion = 1;
  for (;;) {
    const page = await store.readStream({ ...request, fromVersion, maxCount: 0, direction: 'forward' });
    events.push(...page.events);
    if (page.isEnd) return events;
    fromVersion = page.nextFromVersion;
  }
}
