// The event store kept in process memory: the `--memory` mode of the app and the memory
// backend of the gRPC server. It keeps every rule of the protocol; it only forgets on exit.

import type {
  AppendRequest,
  AppendResult,
  EventStore,
  ReadStreamRequest,
  StreamId,
  StreamPage,
  SubscribeRequest,
  SubscriptionMessage,
} from './event-store.ts';
import {
  ConcurrencyError,
  DuplicateEventIdError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
  LimitExceededError,
} from './errors.ts';
import { EventStorage, isSameBatch } from './in-memory-storage.ts';
import type { StoredEvent } from './in-memory-storage.ts';
import type { Limits } from './limits.ts';
import { limitName, limitsFromEnv } from './limits.ts';
import { checkAppend, checkReadStream, checkSubscribe, pageSize, withinResponseBudget } from './rules.ts';

interface Stream {
  /** One object for the stream, shared by all its stored events. */
  readonly id: StreamId;
  readonly events: StoredEvent[];
  /**
   * By idempotency key: the versions the key's batch took, as `packBatch` packs them. The
   * batch itself is in `events`, so a retry is compared with it there and its answer read
   * off its last event: no fingerprint and no answer to keep.
   */
  readonly idempotency: Map<string, number>;
}

interface Tenant {
  readonly id: string;
  /** This tenant's events in global order: what its subscribers walk. */
  readonly log: StoredEvent[];
  readonly streams: Map<string, Stream>;
  readonly eventIds: Set<string>;
}

export class InMemoryEventStore implements EventStore {
  private readonly tenants = new Map<string, Tenant>();
  private readonly storage = new EventStorage();
  private lastGlobalPosition = 0;
  private wakeSubscribers = new Set<() => void>();
  private closed = false;
  /** What the stored events weigh, as `eventBytes` counts them: held under `limits.memoryBytes`. */
  private heldBytes = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limits: Limits = limitsFromEnv(),
  ) {}

  async append(request: AppendRequest): Promise<AppendResult> {
    const bytes = checkAppend(request, this.limits);
    const known = this.tenants.get(request.tenantId);
    const { aggregateId, aggregateType } = request.stream;

    // Idempotency comes first: a retried batch gets its first answer even after the
    // stream has moved on, which the version check below would otherwise refuse.
    const stream = known?.streams.get(aggregateId);
    const key = request.idempotencyKey || undefined;
    const earlier = key === undefined ? undefined : stream?.idempotency.get(key);
    if (stream !== undefined && earlier !== undefined) {
      const { expectedVersion, lastVersion } = unpackBatch(earlier);
      const answered = stream.events.slice(expectedVersion, lastVersion);
      if (expectedVersion === request.expectedVersion && isSameBatch(request, stream.id, answered)) {
        return { lastVersion, lastGlobalPosition: answered.at(-1)!.globalPosition };
      }
      throw new IdempotencyKeyReusedError(`idempotency key ${request.idempotencyKey} was used for another batch`);
    }

    const actualVersion = stream?.events.length ?? 0;
    if (actualVersion !== request.expectedVersion) {
      throw new ConcurrencyError({
        tenantId: request.tenantId,
        aggregateId,
        expectedVersion: request.expectedVersion,
        actualVersion,
        actualGlobalPosition: stream?.events.at(-1)?.globalPosition ?? 0,
      });
    }
    if (stream !== undefined && stream.id.aggregateType !== aggregateType) {
      throw new InvalidRequestError(`stream ${aggregateId} holds ${stream.id.aggregateType} events, not ${aggregateType}`);
    }
    for (const event of request.events) {
      if (known?.eventIds.has(event.eventId) === true) throw new DuplicateEventIdError(`event id ${event.eventId} is already stored`);
    }
    // Full is full for every writer: refused whole, with everything stored still readable.
    if (this.heldBytes + bytes > this.limits.memoryBytes) {
      throw new LimitExceededError(`the memory backend is full: it holds ${this.heldBytes} bytes and this append needs ${bytes} more (${limitName('memoryBytes', this.limits)})`);
    }

    // Nothing below can fail, so the batch lands whole or (above) not at all.
    this.heldBytes += bytes;
    const tenant = known ?? this.newTenant(request.tenantId);
    const target = stream ?? this.newStream(tenant, { aggregateType, aggregateId });
    const recordedAtMs = this.now();
    for (const [index, event] of request.events.entries()) {
      const placement = { tenantId: tenant.id, stream: target.id, version: request.expectedVersion + index + 1, globalPosition: ++this.lastGlobalPosition, recordedAtMs };
      const recorded = this.storage.store(event, placement, key);
      target.events.push(recorded);
      tenant.log.push(recorded);
      tenant.eventIds.add(recorded.eventId);
    }

    const result: AppendResult = { lastVersion: target.events.length, lastGlobalPosition: this.lastGlobalPosition };
    if (key !== undefined) target.idempotency.set(key, packBatch(request.expectedVersion, request.events.length));
    this.wake();
    return result;
  }

  async readStream(request: ReadStreamRequest): Promise<StreamPage> {
    checkReadStream(request, this.limits);
    const events = this.tenants.get(request.tenantId)?.streams.get(request.aggregateId)?.events ?? [];
    const size = pageSize(request.maxCount);
    if (request.direction === 'forward') {
      const first = Math.max(request.fromVersion, 1);
      const page = withinResponseBudget(events.slice(first - 1, first - 1 + size).map((event) => this.storage.recorded(event)), this.limits);
      const next = first + page.length;
      return { events: page, isEnd: next > events.length, nextFromVersion: next };
    }
    const head = events.length;
    const from = request.fromVersion === 0 ? head : Math.min(request.fromVersion, head);
    const page = withinResponseBudget(events.slice(Math.max(from - size, 0), from).reverse().map((event) => this.storage.recorded(event)), this.limits);
    const last = from - page.length;
    return { events: page, isEnd: last === 0, nextFromVersion: last };
  }

  async *subscribe(request: SubscribeRequest): AsyncIterable<SubscriptionMessage> {
    checkSubscribe(request, this.limits);
    const prefix = request.aggregateIdPrefix ?? '';
    const { signal } = request;
    // A tenant nobody has written to is not created by a subscriber: it waits for one to
    // appear, so subscribing to ever new names costs nothing once they are cancelled.
    let log: readonly StoredEvent[] = this.tenants.get(request.tenantId)?.log ?? [];
    let index = firstIndexAtOrAfter(log, request.fromPosition);
    let caughtUp = false;
    while (!this.closed && !signal?.aborted) {
      if (log.length === 0) {
        log = this.tenants.get(request.tenantId)?.log ?? log;
        index = firstIndexAtOrAfter(log, request.fromPosition);
      }
      if (index < log.length) {
        const event = log[index++]!;
        if (event.stream.aggregateId.startsWith(prefix)) yield { kind: 'event', event: this.storage.recorded(event) };
        continue;
      }
      if (!caughtUp) {
        caughtUp = true;
        yield { kind: 'caught-up' };
        continue;
      }
      await this.nextAppend(signal);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
  }

  private newTenant(tenantId: string): Tenant {
    const tenant = { id: tenantId, log: [], streams: new Map(), eventIds: new Set<string>() };
    this.tenants.set(tenantId, tenant);
    return tenant;
  }

  private newStream(tenant: Tenant, id: StreamId): Stream {
    const stream = { id: { aggregateType: this.storage.intern(id.aggregateType), aggregateId: id.aggregateId }, events: [], idempotency: new Map() };
    tenant.streams.set(id.aggregateId, stream);
    return stream;
  }

  /** A subscriber that leaves takes its wake-up with it: a store nobody appends to must not collect them. */
  private nextAppend(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.wakeSubscribers.delete(wake);
        resolve();
      };
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wakeSubscribers.add(wake);
    });
  }

  private wake(): void {
    const waiting = this.wakeSubscribers;
    this.wakeSubscribers = new Set();
    for (const resolve of waiting) resolve();
  }
}

/**
 * The versions an answered batch took, in one number: most appends carry a key, so what a
 * key costs is paid per event, and a number in a map costs no object. Exact while the
 * expected version stays under 2^37 (2^53 / BATCH_LENGTH_BASE); a batch is shorter than
 * BATCH_LENGTH_BASE events (limits.ts caps EVENT_STORE_MAX_EVENTS_PER_APPEND below it).
 */
const BATCH_LENGTH_BASE = 2 ** 16;

function packBatch(expectedVersion: number, length: number): number {
  return expectedVersion * BATCH_LENGTH_BASE + length;
}

function unpackBatch(packed: number): { expectedVersion: number; lastVersion: number } {
  const length = packed % BATCH_LENGTH_BASE;
  const expectedVersion = (packed - length) / BATCH_LENGTH_BASE;
  return { expectedVersion, lastVersion: expectedVersion + length };
}

/** Binary search: the log is in global order, so a subscriber starts without a scan. */
function firstIndexAtOrAfter(log: readonly StoredEvent[], position: number): number {
  let low = 0;
  let high = log.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (log[middle]!.globalPosition < position) low = middle + 1;
    else high = middle;
  }
  return low;
}
