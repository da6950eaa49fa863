// The event store kept in process memory: the `--memory` mode of the app and the memory
// backend of the gRPC server. It keeps every rule of the protocol; it only forgets on exit.

import type {
  AppendRequest,
  AppendResult,
  EventStore,
  ReadStreamRequest,
  RecordedEvent,
  StreamPage,
  SubscribeRequest,
  SubscriptionMessage,
} from './event-store.ts';
import { DEFAULT_CONTENT_TYPE } from './event-store.ts';
import {
  ConcurrencyError,
  DuplicateEventIdError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
} from './errors.ts';
import { batchFingerprint, checkAppend, checkReadStream, checkSubscribe, pageSize } from './rules.ts';

interface Stream {
  readonly aggregateType: string;
  readonly events: RecordedEvent[];
}

interface Tenant {
  /** This tenant's events in global order: what its subscribers walk. */
  readonly log: RecordedEvent[];
  readonly streams: Map<string, Stream>;
  readonly eventIds: Set<string>;
  /** Keyed by aggregate id and idempotency key; holds the first answer to replay it. */
  readonly idempotency: Map<string, { readonly fingerprint: string; readonly result: AppendResult }>;
}

export class InMemoryEventStore implements EventStore {
  private readonly tenants = new Map<string, Tenant>();
  private readonly payloads = new PayloadArena();
  private lastGlobalPosition = 0;
  private wakeSubscribers: Array<() => void> = [];
  private closed = false;

  constructor(private readonly now: () => number = Date.now) {}

  async append(request: AppendRequest): Promise<AppendResult> {
    checkAppend(request);
    const tenant = this.tenant(request.tenantId);
    const { aggregateId, aggregateType } = request.stream;

    // Idempotency comes first: a retried batch gets its first answer even after the
    // stream has moved on, which the version check below would otherwise refuse.
    const idempotencySlot = request.idempotencyKey ? `${aggregateId}\u0000${request.idempotencyKey}` : undefined;
    const fingerprint = idempotencySlot === undefined ? '' : batchFingerprint(request);
    const earlier = idempotencySlot === undefined ? undefined : tenant.idempotency.get(idempotencySlot);
    if (earlier !== undefined) {
      if (earlier.fingerprint === fingerprint) return earlier.result;
      throw new IdempotencyKeyReusedError(`idempotency key ${request.idempotencyKey} was used for another batch`);
    }

    const stream = tenant.streams.get(aggregateId);
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
    if (stream !== undefined && stream.aggregateType !== aggregateType) {
      throw new InvalidRequestError(`stream ${aggregateId} holds ${stream.aggregateType} events, not ${aggregateType}`);
    }
    for (const event of request.events) {
      if (tenant.eventIds.has(event.eventId)) throw new DuplicateEventIdError(`event id ${event.eventId} is already stored`);
    }

    // Nothing below can fail, so the batch lands whole or (above) not at all.
    const recordedAtMs = this.now();
    const recorded = request.events.map((event, index): RecordedEvent => ({
      ...event,
      // A payload from the gRPC server is a view into its whole request's buffer: kept as
      // is, it would keep that buffer alive for as long as the event lives.
      payload: this.payloads.copy(event.payload),
      contentType: event.contentType === '' ? DEFAULT_CONTENT_TYPE : event.contentType,
      tenantId: request.tenantId,
      stream: { aggregateType, aggregateId },
      version: request.expectedVersion + index + 1,
      globalPosition: ++this.lastGlobalPosition,
      recordedAtMs,
    }));
    const target = stream ?? { aggregateType, events: [] };
    tenant.streams.set(aggregateId, target);
    target.events.push(...recorded);
    tenant.log.push(...recorded);
    for (const event of recorded) tenant.eventIds.add(event.eventId);

    const last = recorded[recorded.length - 1]!;
    const result: AppendResult = { lastVersion: last.version, lastGlobalPosition: last.globalPosition };
    if (idempotencySlot !== undefined) tenant.idempotency.set(idempotencySlot, { fingerprint, result });
    this.wake();
    return result;
  }

  async readStream(request: ReadStreamRequest): Promise<StreamPage> {
    checkReadStream(request);
    const events = this.tenants.get(request.tenantId)?.streams.get(request.aggregateId)?.events ?? [];
    const size = pageSize(request.maxCount);
    if (request.direction === 'forward') {
      const first = Math.max(request.fromVersion, 1);
      const page = events.slice(first - 1, first - 1 + size);
      const next = first + page.length;
      return { events: page, isEnd: next > events.length, nextFromVersion: next };
    }
    const head = events.length;
    const from = request.fromVersion === 0 ? head : Math.min(request.fromVersion, head);
    const last = Math.max(from - size, 0);
    const page = events.slice(last, from).reverse();
    return { events: page, isEnd: last === 0, nextFromVersion: last };
  }

  async *subscribe(request: SubscribeRequest): AsyncIterable<SubscriptionMessage> {
    checkSubscribe(request);
    const prefix = request.aggregateIdPrefix ?? '';
    const { signal } = request;
    const log = this.tenant(request.tenantId).log;
    let index = firstIndexAtOrAfter(log, request.fromPosition);
    let caughtUp = false;
    while (!this.closed && !signal?.aborted) {
      if (index < log.length) {
        const event = log[index++]!;
        if (event.stream.aggregateId.startsWith(prefix)) yield { kind: 'event', event };
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

  private tenant(tenantId: string): Tenant {
    let tenant = this.tenants.get(tenantId);
    if (tenant === undefined) {
      tenant = { log: [], streams: new Map(), eventIds: new Set(), idempotency: new Map() };
      this.tenants.set(tenantId, tenant);
    }
    return tenant;
  }

  private nextAppend(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = (): void => resolve();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wakeSubscribers.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiting = this.wakeSubscribers;
    this.wakeSubscribers = [];
    for (const resolve of waiting) resolve();
  }
}

/**
 * Where the store keeps payload bytes: copied into large shared blocks, so that a small
 * payload costs its own bytes and a view, not a buffer of its own with its bookkeeping.
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

/** Binary search: the log is in global order, so a subscriber starts without a scan. */
function firstIndexAtOrAfter(log: readonly RecordedEvent[], position: number): number {
  let low = 0;
  let high = log.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (log[middle]!.globalPosition < position) low = middle + 1;
    else high = middle;
  }
  return low;
}
