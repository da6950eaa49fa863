// Helpers for tests of live delivery: a live subscription that is always ended, a workload
// of many writers (some on streams of their own, some fighting over shared ones) and the
// checks a subscriber's view of it must pass.

import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { EventStore, RecordedEvent, SubscriptionMessage } from '../../src/event-store/event-store.ts';
import { ConcurrencyError } from '../../src/event-store/errors.ts';
import { account, newEvent } from '../event-store/contract.ts';

export interface Acknowledged {
  readonly eventId: string;
  readonly aggregateId: string;
  readonly version: number;
}

export interface Workload {
  readonly tenantId: string;
  /** Writer i appends through stores[i % stores.length]. */
  readonly stores: readonly EventStore[];
  readonly writers: number;
  readonly appendsPerWriter: number;
  /** Told after each acknowledged append, with the events acknowledged so far in all. */
  readonly onAcknowledged?: (eventsSoFar: number) => void;
  /**
   * Whether this error may end a writer early (a test that kills a server expects its
   * writers to stop). Without it, or when it says no, any error but a lost race fails the run.
   */
  readonly mayStop?: (error: unknown, store: EventStore) => boolean;
  /** Each append carries an idempotency key of its own, so a client may send it again safely. */
  readonly keyed?: boolean;
  /**
   * Whether this error is an outage the test expects to end (a database taken away and
   * given back): the writer pauses a moment, reads the head again and tries again.
   */
  readonly retryOn?: (error: unknown) => boolean;
}

export interface WorkloadOutcome {
  /** Every event whose append was acknowledged. */
  readonly acknowledged: Acknowledged[];
  /** Writers that ended early, and the error each ended on; always allowed by `mayStop`. */
  readonly stopped: ReadonlyArray<{ readonly writer: number; readonly store: EventStore; readonly error: unknown }>;
}

/**
 * Runs the writers. Even writers own a stream; odd writers share two streams and re-read
 * and retry when they lose a race, which is the one failure a writer expects. Any other
 * error fails the run, unless `mayStop` allows it, and then only that writer stops.
 */
export async function runWriters(workload: Workload): Promise<WorkloadOutcome> {
  const acknowledged: Acknowledged[] = [];
  const stopped: Array<{ writer: number; store: EventStore; error: unknown }> = [];
  await Promise.all(
    Array.from({ length: workload.writers }, async (_, writer) => {
      const store = workload.stores[writer % workload.stores.length]!;
      const aggregateId = writer % 2 === 0 ? `own-${writer}` : `shared-${writer % 4}`;
      for (let done = 0; done < workload.appendsPerWriter; ) {
        const events = Array.from({ length: eventsInAppend(done) }, newEvent);
        let expectedVersion: number;
        try {
          const head = await store.readStream({ tenantId: workload.tenantId, aggregateId, fromVersion: 0, maxCount: 1, direction: 'backward' });
          expectedVersion = head.events[0]?.version ?? 0;
          const idempotencyKey = workload.keyed === true ? randomUUID() : undefined;
          await store.append({ tenantId: workload.tenantId, stream: account(aggregateId), expectedVersion, idempotencyKey, events });
        } catch (error) {
          if (error instanceof ConcurrencyError) continue;
          if (workload.retryOn?.(error) === true) {
            // Not a wait for anything: it keeps the writers from spinning while the outage lasts.
            await new Promise((resolve) => setTimeout(resolve, 50));
            continue;
          }
          if (workload.mayStop?.(error, store) !== true) throw error;
          stopped.push({ writer, store, error });
          return;
        }
        events.forEach((event, index) => acknowledged.push({ eventId: event.eventId, aggregateId, version: expectedVersion + index + 1 }));
        workload.onAcknowledged?.(acknowledged.length);
        done++;
      }
    }),
  );
  return { acknowledged, stopped };
}

/** The events a writer appends in its append number `done` (from 0): 1, 2, 3, 1, 2, 3, ... */
function eventsInAppend(done: number): number {
  return 1 + (done % 3);
}

/** How many events a workload that nobody stops acknowledges in all: the exact count to expect. */
export function eventsOfWorkload(writers: number, appendsPerWriter: number): number {
  let perWriter = 0;
  for (let done = 0; done < appendsPerWriter; done++) perWriter += eventsInAppend(done);
  return writers * perWriter;
}

/** Opens a subscription from the start, waits until it is live, hands it over, and always ends it. */
export async function withLiveSubscription(
  store: EventStore,
  tenantId: string,
  use: (subscription: AsyncIterator<SubscriptionMessage>) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const subscription = store.subscribe({ tenantId, fromPosition: 0, signal: controller.signal })[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await subscription.next();
      if (next.done) throw new Error('the subscription ended before it caught up');
      if (next.value.kind === 'caught-up') break;
    }
    await use(subscription);
  } finally {
    controller.abort();
    await subscription.return?.();
  }
}

/** Takes events from a live subscription until every id in `wanted` has arrived. */
export async function receiveAll(
  iterator: AsyncIterator<SubscriptionMessage>,
  wanted: ReadonlySet<string>,
  timeoutMs = 20_000,
): Promise<RecordedEvent[]> {
  const received: RecordedEvent[] = [];
  const missing = new Set(wanted);
  const deadline = Date.now() + timeoutMs;
  while (missing.size > 0) {
    const next = await beforeDeadline(iterator.next(), deadline);
    if (next === undefined) throw new Error(`${missing.size} acknowledged events never arrived`);
    if (next.done) throw new Error('the subscription ended early');
    if (next.value.kind !== 'event') continue;
    received.push(next.value.event);
    missing.delete(next.value.event.eventId);
  }
  return received;
}

/** Every acknowledged event exactly once, positions rising, each stream's versions 1..n. */
export function expectExactlyOnceInOrder(acknowledged: readonly Acknowledged[], received: readonly RecordedEvent[]): void {
  const ids = received.map((event) => event.eventId);
  expect(new Set(ids).size).toBe(ids.length);
  const acknowledgedIds = new Set(acknowledged.map((event) => event.eventId));
  for (const id of acknowledgedIds) expect(ids).toContain(id);
  for (let i = 1; i < received.length; i++) expect(received[i]!.globalPosition).toBeGreaterThan(received[i - 1]!.globalPosition);
  const versionsByStream = new Map<string, number[]>();
  for (const event of received) {
    const versions = versionsByStream.get(event.stream.aggregateId) ?? [];
    versions.push(event.version);
    versionsByStream.set(event.stream.aggregateId, versions);
  }
  for (const versions of versionsByStream.values()) expect(versions).toEqual(versions.map((_, i) => i + 1));
  for (const event of acknowledged) {
    const delivered = received.find((r) => r.eventId === event.eventId);
    expect(delivered).toMatchObject({ version: event.version, stream: { aggregateId: event.aggregateId } });
  }
}

/** The promise's value, or undefined once the deadline passes first. */
async function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(deadline - Date.now(), 0))));
  try {
    return await Promise.race([promise, expiry]);
  } finally {
    clearTimeout(timer);
  }
}
