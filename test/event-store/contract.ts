// The event store contract: one suite, run against every implementation of the port (in
// memory, over gRPC, on PostgreSQL), so they all keep the protocol's rules the same way.
// Each test works in a tenant of its own, so one store may serve the whole suite.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { EventStore, NewEvent, RecordedEvent, SubscriptionMessage } from '../../src/event-store/event-store.ts';
import { MAX_PAGE_SIZE } from '../../src/event-store/event-store.ts';
import {
  ConcurrencyError,
  DuplicateEventIdError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
  MissingTenantError,
} from '../../src/event-store/errors.ts';
import { limitsContract } from './limits-contract.ts';

export interface StoreUnderTest {
  readonly store: EventStore;
  /** Stops whatever the factory started (servers, pools). */
  readonly stop: () => Promise<void>;
}

export function describeEventStoreContract(name: string, start: () => Promise<StoreUnderTest>): void {
  describe(`EventStore contract: ${name}`, () => {
    let underTest: StoreUnderTest | undefined;
    const store = (): EventStore => {
      if (underTest === undefined) throw new Error('the store did not start');
      return underTest.store;
    };
    beforeAll(async () => {
      underTest = await start();
    });
    afterAll(async () => {
      await underTest?.stop();
    });

    it('appends a new stream at expected version 0 and reads every field back', async () => {
      const tenantId = newTenant();
      const event = fullEvent();
      const result = await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [event, newEvent()] });
      expect(result.lastVersion).toBe(2);
      expect(result.lastGlobalPosition).toBeGreaterThanOrEqual(2);

      const page = await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion: 0, maxCount: 0, direction: 'forward' });
      expect(page.isEnd).toBe(true);
      expect(page.events.map((e) => e.version)).toEqual([1, 2]);
      const [first, second] = page.events as [RecordedEvent, RecordedEvent];
      expect(second.globalPosition).toBe(result.lastGlobalPosition);
      expect(first.globalPosition).toBe(result.lastGlobalPosition - 1);
      expect(first).toMatchObject({
        tenantId,
        stream: account('a-1'),
        eventId: event.eventId,
        eventType: 'MoneyDeposited',
        eventVersion: 3,
        contentType: 'application/json',
        contentSchema: 'bank/money-deposited',
        correlationId: 'corr-1',
        causationId: 'cause-1',
        actorId: 'teller-7',
        clientTimestampMs: 1_700_000_000_123,
        headers: { channel: 'branch' },
      });
      expect(Buffer.from(first.payload).toString()).toBe('{"amountCents":1234}');
      expect(Buffer.from(first.payloadSha256 ?? new Uint8Array())).toEqual(Buffer.from([1, 2, 3]));
      expect(Math.abs(first.recordedAtMs - Date.now())).toBeLessThan(60_000);
    });

    it('gives back the correlation and causation ids as given, each on its own', async () => {
      const tenantId = newTenant();
      const shapes = [
        { correlationId: 'corr', causationId: undefined },
        { correlationId: undefined, causationId: 'cause' },
        { correlationId: 'same', causationId: 'same' },
        { correlationId: 'corr', causationId: 'cause' },
        { correlationId: undefined, causationId: undefined },
      ];
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: shapes.map((ids) => ({ ...newEvent(), ...ids })) });
      const page = await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion: 0, maxCount: 0, direction: 'forward' });
      expect(page.events.map((e) => ({ correlationId: e.correlationId, causationId: e.causationId }))).toEqual(shapes);
    });

    it('keeps its own copy of each payload: the caller may reuse its buffer', async () => {
      const tenantId = newTenant();
      // A payload that is a view into a larger buffer, as a payload read off the network is.
      const buffer = Buffer.from('xx{"amountCents":1}yy');
      const payload = buffer.subarray(2, buffer.length - 2);
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [{ ...newEvent(), payload }] });
      buffer.fill(0);
      const [stored] = (await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion: 0, maxCount: 0, direction: 'forward' })).events;
      expect(Buffer.from(stored?.payload ?? []).toString()).toBe('{"amountCents":1}');
    });

    it('refuses expected version 0 once the stream exists, naming the actual version', async () => {
      const tenantId = newTenant();
      const first = await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent(), newEvent()] });
      const refused = await failure(store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent()] }));
      expect(refused).toBeInstanceOf(ConcurrencyError);
      expect(refused).toMatchObject({ actualVersion: 2, actualGlobalPosition: first.lastGlobalPosition, aggregateId: 'a-1' });
    });

    it('refuses a stale expected version and a version beyond the head', async () => {
      const tenantId = newTenant();
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent()] });
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 1, events: [newEvent()] });
      for (const expectedVersion of [1, 5]) {
        const refused = await failure(store().append({ tenantId, stream: account('a-1'), expectedVersion, events: [newEvent()] }));
        expect(refused).toBeInstanceOf(ConcurrencyError);
        expect(refused).toMatchObject({ actualVersion: 2 });
      }
      expect(await versions(store(), tenantId, 'a-1')).toEqual([1, 2]);
    });

    it('lets exactly one of two racing writers at the same expected version win', async () => {
      const tenantId = newTenant();
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent()] });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, () => store().append({ tenantId, stream: account('a-1'), expectedVersion: 1, events: [newEvent()] })),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ConcurrencyError);
      }
      expect(await versions(store(), tenantId, 'a-1')).toEqual([1, 2]);
    });

    it('keeps each event\'s own type, schema version and content type, however alike its neighbours', async () => {
      const tenantId = newTenant();
      const kinds = [
        { eventType: 'Noted', eventVersion: 1, contentType: 'application/json' },
        { eventType: 'Noted', eventVersion: 2, contentType: 'application/json' },
        { eventType: 'Noted', eventVersion: 2, contentType: 'application/x-protobuf' },
        { eventType: 'Other', eventVersion: 2, contentType: 'application/x-protobuf' },
        { eventType: 'Noted', eventVersion: 1, contentType: 'application/json' },
      ];
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: kinds.map((kind) => ({ ...newEvent(), ...kind })) });
      const page = await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion: 0, maxCount: 0, direction: 'forward' });
      expect(page.events.map(({ eventType, eventVersion, contentType }) => ({ eventType, eventVersion, contentType }))).toEqual(kinds);
    });

    it('answers a retried batch with its first response, even after the stream moved on', async () => {
      const tenantId = newTenant();
      const batch = { tenantId, stream: account('a-1'), expectedVersion: 0, idempotencyKey: 'open-a-1', events: [newEvent()] };
      const first = await store().append(batch);
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 1, events: [newEvent()] });
      const retried = await store().append(batch);
      expect(retried).toEqual(first);
      expect(await versions(store(), tenantId, 'a-1')).toEqual([1, 2]);
    });

    it('answers a retried batch of several events mid-stream with its own last version and position', async () => {
      const tenantId = newTenant();
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent()] });
      const batch = { tenantId, stream: account('a-1'), expectedVersion: 1, idempotencyKey: 'three', events: [newEvent(), newEvent(), newEvent()] };
      const first = await store().append(batch);
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 4, events: [newEvent()] });
      expect(first.lastVersion).toBe(4);
      expect(await store().append(batch)).toEqual(first);
      // Part of that batch under its key is another batch, not a retry of it.
      const tail = { ...batch, expectedVersion: 2, events: batch.events.slice(1) };
      expect(await failure(store().append(tail))).toBeInstanceOf(IdempotencyKeyReusedError);
      expect(await versions(store(), tenantId, 'a-1')).toEqual([1, 2, 3, 4, 5]);
    });

    it('refuses another batch under a used idempotency key and stores nothing of it', async () => {
      const tenantId = newTenant();
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, idempotencyKey: 'k', events: [newEvent()] });
      const refused = await failure(
        store().append({ tenantId, stream: account('a-1'), expectedVersion: 1, idempotencyKey: 'k', events: [newEvent()] }),
      );
      expect(refused).toBeInstanceOf(IdempotencyKeyReusedError);
      expect(await versions(store(), tenantId, 'a-1')).toEqual([1]);
      // The key is scoped to its stream: another stream may use it.
      await store().append({ tenantId, stream: account('a-2'), expectedVersion: 0, idempotencyKey: 'k', events: [newEvent()] });
    });

    it('takes a batch with the same ids but other bytes under a used key for another batch', async () => {
      const tenantId = newTenant();
      const event = newEvent();
      const batch = { tenantId, stream: account('a-1'), expectedVersion: 0, idempotencyKey: 'k', events: [event] };
      await store().append(batch);
      const altered = { ...batch, events: [{ ...event, payload: Buffer.from('{"amountCents":2}') }] };
      expect(await failure(store().append(altered))).toBeInstanceOf(IdempotencyKeyReusedError);
      const retyped = { ...batch, events: [{ ...event, eventType: 'Other' }] };
      expect(await failure(store().append(retyped))).toBeInstanceOf(IdempotencyKeyReusedError);
      // Restamped metadata is not part of the batch: still the same one, answered as before;
      // so is an empty content type, which every store takes for the default.
      expect(await store().append({ ...batch, events: [{ ...event, clientTimestampMs: 42 }] })).toMatchObject({ lastVersion: 1 });
      const untyped = { ...batch, idempotencyKey: 'k2', stream: account('a-2'), events: [{ ...newEvent(), contentType: '' }] };
      const first = await store().append(untyped);
      expect(await store().append({ ...untyped, events: [{ ...untyped.events[0]!, contentType: 'application/octet-stream' }] })).toEqual(first);
      expect(await versions(store(), tenantId, 'a-1')).toEqual([1]);
    });

    it('refuses an event id already stored for the tenant, but not one of another tenant', async () => {
      const tenantId = newTenant();
      const event = newEvent();
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [event] });
      const refused = await failure(store().append({ tenantId, stream: account('a-2'), expectedVersion: 0, events: [event] }));
      expect(refused).toBeInstanceOf(DuplicateEventIdError);
      await store().append({ tenantId: newTenant(), stream: account('a-2'), expectedVersion: 0, events: [event] });
    });

    it('commits a batch whole or not at all', async () => {
      const tenantId = newTenant();
      const stored = newEvent();
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [stored] });
      const refused = await failure(
        store().append({ tenantId, stream: account('a-2'), expectedVersion: 0, events: [newEvent(), newEvent(), stored, newEvent()] }),
      );
      expect(refused).toBeInstanceOf(DuplicateEventIdError);
      expect(await versions(store(), tenantId, 'a-2')).toEqual([]);
      await store().append({ tenantId, stream: account('a-2'), expectedVersion: 0, events: [newEvent()] });
      expect(await versions(store(), tenantId, 'a-2')).toEqual([1]);
    });

    it('refuses malformed requests with typed errors', async () => {
      const tenantId = newTenant();
      const ok = { tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent()] };
      expect(await failure(store().append({ ...ok, tenantId: '' }))).toBeInstanceOf(MissingTenantError);
      expect(await failure(store().append({ ...ok, stream: account('') }))).toBeInstanceOf(InvalidRequestError);
      expect(await failure(store().append({ ...ok, stream: { aggregateType: '', aggregateId: 'a-1' } }))).toBeInstanceOf(InvalidRequestError);
      expect(await failure(store().append({ ...ok, events: [] }))).toBeInstanceOf(InvalidRequestError);
      expect(await failure(store().append({ ...ok, events: [{ ...newEvent(), eventId: '' }] }))).toBeInstanceOf(InvalidRequestError);
      expect(await failure(store().append({ ...ok, events: [{ ...newEvent(), eventType: '' }] }))).toBeInstanceOf(InvalidRequestError);
      // Numbers the wire carries unsigned: a subscriber would get another number, or unreadable bytes.
      for (const eventVersion of [-1, 1.5, 2 ** 32]) {
        expect(await failure(store().append({ ...ok, events: [{ ...newEvent(), eventVersion }] }))).toBeInstanceOf(InvalidRequestError);
      }
      for (const clientTimestampMs of [-5, 0.5]) {
        expect(await failure(store().append({ ...ok, events: [{ ...newEvent(), clientTimestampMs }] }))).toBeInstanceOf(InvalidRequestError);
      }
      const read = { tenantId, aggregateId: 'a-1', fromVersion: 0, maxCount: 0, direction: 'forward' } as const;
      expect(await failure(store().readStream({ ...read, tenantId: '' }))).toBeInstanceOf(MissingTenantError);
      expect(await failure(store().readStream({ ...read, aggregateId: '' }))).toBeInstanceOf(InvalidRequestError);
      expect(await failure(firstMessage(store().subscribe({ tenantId: '', fromPosition: 0 })))).toBeInstanceOf(MissingTenantError);
      expect(await versions(store(), tenantId, 'a-1')).toEqual([]);
    });

    it('refuses text with a NUL character, which not every store can keep', async () => {
      const tenantId = newTenant();
      const ok = { tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent()] };
      expect(await failure(store().append({ ...ok, stream: account('a\u00001') }))).toBeInstanceOf(InvalidRequestError);
      expect(await failure(store().append({ ...ok, events: [{ ...newEvent(), eventType: 'Bad\u0000' }] }))).toBeInstanceOf(InvalidRequestError);
      expect(await failure(store().append({ ...ok, events: [{ ...newEvent(), headers: { k: 'v\u0000' } }] }))).toBeInstanceOf(InvalidRequestError);
      expect(await versions(store(), tenantId, 'a-1')).toEqual([]);
    });

    it('refuses half a surrogate pair in any text, rather than keep or look up other text than was given', async () => {
      const tenantId = newTenant();
      const ok = { tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent()] };
      const lone = '\uD800';
      for (const request of [
        { ...ok, stream: account(`a-1${lone}`) },
        { ...ok, idempotencyKey: `k${lone}` },
        { ...ok, events: [{ ...newEvent(), eventType: `Noted${lone}` }] },
        { ...ok, events: [{ ...newEvent(), correlationId: `c${lone}` }] },
        { ...ok, events: [{ ...newEvent(), headers: { [`h${lone}`]: 'v' } }] },
        { ...ok, events: [newEvent(), { ...newEvent(), headers: { h: `v${lone}` } }] },
      ]) {
        const refused = await failure(store().append(request));
        expect(refused).toBeInstanceOf(InvalidRequestError);
        expect(String(refused)).toMatch(/lone surrogate/);
      }
      const read = { tenantId, aggregateId: `a-1${lone}`, fromVersion: 0, maxCount: 0, direction: 'forward' } as const;
      expect(String(await failure(store().readStream(read)))).toMatch(/lone surrogate/);
      expect(String(await failure(firstMessage(store().subscribe({ tenantId, aggregateIdPrefix: `a${lone}`, fromPosition: 0 }))))).toMatch(/lone surrogate/);
      expect(await versions(store(), tenantId, 'a-1')).toEqual([]);
      expect(await versions(store(), tenantId, 'a-1\uFFFD')).toEqual([]);
    });

    it('keeps a stream to the aggregate type of its first append', async () => {
      const tenantId = newTenant();
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent()] });
      const refused = await failure(
        store().append({ tenantId, stream: { aggregateType: 'Loan', aggregateId: 'a-1' }, expectedVersion: 1, events: [newEvent()] }),
      );
      expect(refused).toBeInstanceOf(InvalidRequestError);
    });

    it('reads a stream forward in pages', async () => {
      const tenantId = newTenant();
      await appendMany(store(), tenantId, 'a-1', 25);
      const pages = [];
      let fromVersion = 0;
      for (;;) {
        const page = await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion, maxCount: 10, direction: 'forward' });
        pages.push(page.events.map((e) => e.version));
        if (page.isEnd) break;
        fromVersion = page.nextFromVersion;
      }
      expect(pages).toEqual([range(1, 10), range(11, 20), range(21, 25)]);
      const middle = await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion: 24, maxCount: 10, direction: 'forward' });
      expect(middle).toMatchObject({ isEnd: true, nextFromVersion: 26 });
      const past = await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion: 40, maxCount: 10, direction: 'forward' });
      expect(past.events).toEqual([]);
      expect(past.isEnd).toBe(true);
    });

    it('reads a stream backward in pages, from the head when asked from 0', async () => {
      const tenantId = newTenant();
      await appendMany(store(), tenantId, 'a-1', 25);
      const pages = [];
      let fromVersion = 0;
      for (;;) {
        const page = await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion, maxCount: 10, direction: 'backward' });
        pages.push(page.events.map((e) => e.version));
        if (page.isEnd) break;
        fromVersion = page.nextFromVersion;
      }
      expect(pages).toEqual([range(16, 25).reverse(), range(6, 15).reverse(), range(1, 5).reverse()]);
      const fromMiddle = await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion: 3, maxCount: 10, direction: 'backward' });
      expect(fromMiddle.events.map((e) => e.version)).toEqual([3, 2, 1]);
      expect(fromMiddle.isEnd).toBe(true);
    });

    it('bounds a page by the store limit when max count is 0', async () => {
      const tenantId = newTenant();
      await appendMany(store(), tenantId, 'a-1', MAX_PAGE_SIZE + 5);
      const page = await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion: 0, maxCount: 0, direction: 'forward' });
      expect(page.events).toHaveLength(MAX_PAGE_SIZE);
      expect(page).toMatchObject({ isEnd: false, nextFromVersion: MAX_PAGE_SIZE + 1 });
    });

    it('answers an unknown stream with an empty last page', async () => {
      const page = await store().readStream({ tenantId: newTenant(), aggregateId: 'nobody', fromVersion: 0, maxCount: 0, direction: 'backward' });
      expect(page.events).toEqual([]);
      expect(page.isEnd).toBe(true);
    });

    it('keeps tenants apart in reads, appends and subscriptions', async () => {
      const [tenantA, tenantB] = [newTenant(), newTenant()];
      await store().append({ tenantId: tenantA, stream: account('shared'), expectedVersion: 0, events: [newEvent(), newEvent()] });
      await store().append({ tenantId: tenantB, stream: account('shared'), expectedVersion: 0, events: [newEvent()] });
      expect(await versions(store(), tenantA, 'shared')).toEqual([1, 2]);
      expect(await versions(store(), tenantB, 'shared')).toEqual([1]);
      const seen = await untilCaughtUp(store().subscribe({ tenantId: tenantB, fromPosition: 0 }));
      expect(seen.map((e) => e.tenantId)).toEqual([tenantB]);
    });

    it('subscribes with catch-up first, then live events, in global order', async () => {
      const tenantId = newTenant();
      await appendMany(store(), tenantId, 'a-1', 3);
      await appendMany(store(), tenantId, 'a-2', 2);
      const controller = new AbortController();
      const iterator = store().subscribe({ tenantId, fromPosition: 0, signal: controller.signal })[Symbol.asyncIterator]();
      try {
        const caughtUp = await takeUntilCaughtUp(iterator);
        expect(caughtUp.map((e) => `${e.stream.aggregateId}@${e.version}`)).toEqual(['a-1@1', 'a-1@2', 'a-1@3', 'a-2@1', 'a-2@2']);
        expectIncreasing(caughtUp.map((e) => e.globalPosition));

        const writes = Promise.all([appendMany(store(), tenantId, 'a-3', 4), appendMany(store(), tenantId, 'a-4', 4)]);
        const live = await takeEvents(iterator, 8);
        await writes;
        expectIncreasing(live.map((e) => e.globalPosition));
        expect(live[0]!.globalPosition).toBeGreaterThan(caughtUp.at(-1)!.globalPosition);
        expect(new Set(live.map((e) => e.eventId)).size).toBe(8);
      } finally {
        controller.abort();
        await iterator.return?.();
      }
    });

    it('says caught-up exactly once, between the catch-up and the live events', async () => {
      const tenantId = newTenant();
      await appendMany(store(), tenantId, 'a-1', 2);
      const controller = new AbortController();
      const iterator = store().subscribe({ tenantId, fromPosition: 0, signal: controller.signal })[Symbol.asyncIterator]();
      try {
        const kinds: string[] = [];
        const takeUntil = async (last: SubscriptionMessage['kind']): Promise<void> => {
          for (;;) {
            const next = await withTimeout(iterator.next(), 'the next message');
            if (next.done) throw new Error('the subscription ended early');
            kinds.push(next.value.kind);
            if (next.value.kind === last) return;
          }
        };
        const take = async (events: number): Promise<void> => {
          for (let seen = 0; seen < events; seen++) await takeUntil('event');
        };
        await takeUntil('caught-up');
        await appendMany(store(), tenantId, 'a-1', 1);
        await take(1);
        await appendMany(store(), tenantId, 'a-2', 1);
        await take(1);
        expect(kinds).toEqual(['event', 'event', 'caught-up', 'event', 'event']);
      } finally {
        controller.abort();
        await iterator.return?.();
      }
    });

    it('delivers only streams whose id starts with the prefix', async () => {
      const tenantId = newTenant();
      await appendMany(store(), tenantId, 'acc-1', 2);
      await appendMany(store(), tenantId, 'loan-1', 2);
      await appendMany(store(), tenantId, 'acc-2', 1);
      const seen = await untilCaughtUp(store().subscribe({ tenantId, fromPosition: 0, aggregateIdPrefix: 'acc-' }));
      expect(seen.map((e) => e.stream.aggregateId)).toEqual(['acc-1', 'acc-1', 'acc-2']);
    });

    it('starts a subscription at the given position, inclusive', async () => {
      const tenantId = newTenant();
      await appendMany(store(), tenantId, 'a-1', 5);
      const all = await untilCaughtUp(store().subscribe({ tenantId, fromPosition: 0 }));
      const third = all[2]!.globalPosition;
      const fromThird = await untilCaughtUp(store().subscribe({ tenantId, fromPosition: third }));
      expect(fromThird.map((e) => e.version)).toEqual([3, 4, 5]);
    });

    it('ends a subscription quietly when its signal aborts', async () => {
      const tenantId = newTenant();
      const controller = new AbortController();
      const iterator = store().subscribe({ tenantId, fromPosition: 0, signal: controller.signal })[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toEqual({ kind: 'caught-up' });
      const waiting = iterator.next();
      controller.abort();
      expect((await waiting).done).toBe(true);
    });

    limitsContract(store);
  });
}

// ---- fixtures -------------------------------------------------------------------------

export function newTenant(): string {
  return `tenant-${randomUUID()}`;
}

export function account(aggregateId: string): { aggregateType: string; aggregateId: string } {
  return { aggregateType: 'BankAccount', aggregateId };
}

export function newEvent(): NewEvent {
  return { eventId: uuidv7(), eventType: 'Noted', eventVersion: 1, contentType: 'application/json', payload: Buffer.from('{}') };
}

function fullEvent(): NewEvent {
  return {
    eventId: uuidv7(),
    eventType: 'MoneyDeposited',
    eventVersion: 3,
    contentType: 'application/json',
    payload: Buffer.from('{"amountCents":1234}'),
    contentSchema: 'bank/money-deposited',
    correlationId: 'corr-1',
    causationId: 'cause-1',
    actorId: 'teller-7',
    clientTimestampMs: 1_700_000_000_123,
    payloadSha256: new Uint8Array([1, 2, 3]),
    headers: { channel: 'branch' },
  };
}

export async function appendMany(store: EventStore, tenantId: string, aggregateId: string, count: number): Promise<void> {
  const head = (await store.readStream({ tenantId, aggregateId, fromVersion: 0, maxCount: 1, direction: 'backward' })).events[0];
  let expectedVersion = head?.version ?? 0;
  for (let done = 0; done < count; ) {
    const size = Math.min(count - done, 500);
    const events = Array.from({ length: size }, newEvent);
    await store.append({ tenantId, stream: account(aggregateId), expectedVersion, events });
    expectedVersion += size;
    done += size;
  }
}

async function versions(store: EventStore, tenantId: string, aggregateId: string): Promise<number[]> {
  const page = await store.readStream({ tenantId, aggregateId, fromVersion: 0, maxCount: 0, direction: 'forward' });
  return page.events.map((e) => e.version);
}

export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

export async function firstMessage(subscription: AsyncIterable<SubscriptionMessage>): Promise<SubscriptionMessage | undefined> {
  for await (const message of subscription) return message;
  return undefined;
}

/** Every event a fresh subscription delivers before it reports being caught up. */
export async function untilCaughtUp(subscription: AsyncIterable<SubscriptionMessage>): Promise<RecordedEvent[]> {
  const iterator = subscription[Symbol.asyncIterator]();
  try {
    return await takeUntilCaughtUp(iterator);
  } finally {
    await iterator.return?.();
  }
}

async function takeUntilCaughtUp(iterator: AsyncIterator<SubscriptionMessage>): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (;;) {
    const next = await withTimeout(iterator.next(), 'the subscription to catch up');
    if (next.done) throw new Error('the subscription ended before it caught up');
    if (next.value.kind === 'caught-up') return events;
    events.push(next.value.event);
  }
}

export async function takeEvents(iterator: AsyncIterator<SubscriptionMessage>, count: number): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  while (events.length < count) {
    const next = await withTimeout(iterator.next(), `event ${events.length + 1} of ${count}`);
    if (next.done) throw new Error(`the subscription ended after ${events.length} of ${count} events`);
    if (next.value.kind === 'event') events.push(next.value.event);
  }
  return events;
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function expectIncreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
