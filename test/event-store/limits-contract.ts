// The event store contract, part two: the limits (src/event-store/limits.ts), kept alike by
// every store at their defaults. Called from the contract suite, so it runs wherever it runs.

import { expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { EventStore, NewEvent, RecordedEvent, SubscriptionMessage } from '../../src/event-store/event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { InvalidRequestError, LimitExceededError } from '../../src/event-store/errors.ts';
import { DEFAULT_LIMITS } from '../../src/event-store/limits.ts';
import { account, failure, firstMessage, newEvent, newTenant, untilCaughtUp } from './contract.ts';

export function limitsContract(store: () => EventStore): void {
  it('takes text up to the byte limit, tenant, ids and key together', async () => {
    const longest = (prefix: string): string => prefix + 'x'.repeat(DEFAULT_LIMITS.textBytes - prefix.length);
    const tenantId = longest(newTenant());
    const aggregateId = longest('a-');
    const event = { ...newEvent(), eventId: longest(uuidv7()), headers: { [longest('h-')]: longest('v-') } };
    await store().append({ tenantId, stream: account(aggregateId), expectedVersion: 0, idempotencyKey: longest('k-'), events: [event] });
    const [stored] = await readWholeStream(store(), { tenantId, aggregateId });
    expect(stored).toMatchObject({ tenantId, eventId: event.eventId, headers: event.headers });
  });

  it('refuses text past the byte limit, counted in UTF-8 bytes, naming the limit and its variable', async () => {
    const tenantId = newTenant();
    // 'é' is two bytes: this id is short in characters and one byte past the limit.
    const tooLong = 'é'.repeat(DEFAULT_LIMITS.textBytes / 2) + 'x';
    const ok = { tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent()] };
    const refusals = [
      await failure(store().append({ ...ok, stream: account(tooLong) })),
      await failure(store().append({ ...ok, idempotencyKey: tooLong })),
      await failure(store().append({ ...ok, events: [{ ...newEvent(), headers: { h: tooLong } }] })),
      await failure(store().readStream({ tenantId: tooLong, aggregateId: 'a-1', fromVersion: 0, maxCount: 0, direction: 'forward' })),
      await failure(firstMessage(store().subscribe({ tenantId: tooLong, fromPosition: 0 }))),
    ];
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(InvalidRequestError);
      expect(String(refusal)).toContain(`EVENT_STORE_MAX_TEXT_BYTES=${DEFAULT_LIMITS.textBytes}`);
    }
    expect(await readWholeStream(store(), { tenantId, aggregateId: 'a-1' })).toEqual([]);
  });

  it('refuses more headers than the limit, and a header name no object can keep', async () => {
    const tenantId = newTenant();
    const many = Object.fromEntries(Array.from({ length: DEFAULT_LIMITS.headersPerEvent + 1 }, (_, i) => [`h${i}`, 'v']));
    const ok = { tenantId, stream: account('a-1'), expectedVersion: 0 };
    const tooMany = await failure(store().append({ ...ok, events: [{ ...newEvent(), headers: many }] }));
    expect(tooMany).toBeInstanceOf(InvalidRequestError);
    expect(String(tooMany)).toContain('EVENT_STORE_MAX_HEADERS');
    const proto = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    expect(String(await failure(store().append({ ...ok, events: [{ ...newEvent(), headers: proto }] })))).toContain('__proto__');
    expect(await readWholeStream(store(), { tenantId, aggregateId: 'a-1' })).toEqual([]);
  });

  it('refuses a payload past its limit and more events than an append holds, naming each', async () => {
    const tenantId = newTenant();
    const ok = { tenantId, stream: account('a-1'), expectedVersion: 0 };
    const payload = await failure(store().append({ ...ok, events: [{ ...newEvent(), payload: Buffer.alloc(DEFAULT_LIMITS.payloadBytes + 1) }] }));
    expect(payload).toBeInstanceOf(LimitExceededError);
    expect(String(payload)).toContain('EVENT_STORE_MAX_PAYLOAD_BYTES');
    const events = Array.from({ length: DEFAULT_LIMITS.eventsPerAppend + 1 }, newEvent);
    const count = await failure(store().append({ ...ok, events }));
    expect(count).toBeInstanceOf(LimitExceededError);
    expect(String(count)).toContain('EVENT_STORE_MAX_EVENTS_PER_APPEND');
  });

  it('cuts pages of large events at the byte budget, one event past it alone, both ways', async () => {
    const tenantId = newTenant();
    const kib = (n: number): NewEvent => ({ ...newEvent(), payload: Buffer.alloc(n * 1024, n) });
    const sizes = [300, DEFAULT_LIMITS.payloadBytes / 1024, 300, 300, 300, 300, 1, 1];
    await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: sizes.map(kib) });
    for (const direction of ['forward', 'backward'] as const) {
      const pages: RecordedEvent[][] = [];
      let fromVersion = 0;
      for (;;) {
        const page = await store().readStream({ tenantId, aggregateId: 'a-1', fromVersion, maxCount: 0, direction });
        pages.push([...page.events]);
        if (page.isEnd) break;
        fromVersion = page.nextFromVersion;
      }
      const read = pages.flat().map((event) => event.version);
      expect(read).toEqual(direction === 'forward' ? [1, 2, 3, 4, 5, 6, 7, 8] : [8, 7, 6, 5, 4, 3, 2, 1]);
      expect(pages.length).toBeGreaterThan(2);
      for (const page of pages) {
        if (page.length > 1) expect(payloadBytes(page)).toBeLessThanOrEqual(DEFAULT_LIMITS.responseBytes);
      }
      expect(pages.find((page) => page.some((event) => event.version === 2))).toHaveLength(1);
    }
  });

  it('delivers a log of large events to a subscriber whole, in order, batch after batch', async () => {
    const tenantId = newTenant();
    const events = Array.from({ length: 8 }, (): NewEvent => ({ ...newEvent(), payload: Buffer.alloc(400 * 1024, 7) }));
    await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events });
    const delivered = await untilCaughtUp(store().subscribe({ tenantId, fromPosition: 0 }));
    expect(delivered.map((event) => event.eventId)).toEqual(events.map((event) => event.eventId));
  });

  it('follows a tenant nobody had written to, from the position asked', async () => {
    const tenantId = newTenant();
    const elsewhere = await store().append({ tenantId: newTenant(), stream: account('a-1'), expectedVersion: 0, events: [newEvent()] });
    const controller = new AbortController();
    const iterator = store().subscribe({ tenantId, fromPosition: elsewhere.lastGlobalPosition + 2, signal: controller.signal })[Symbol.asyncIterator]();
    try {
      expect((await iterator.next()).value).toEqual({ kind: 'caught-up' });
      const first = newEvent();
      const second = newEvent();
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [first] });
      await store().append({ tenantId, stream: account('a-1'), expectedVersion: 1, events: [second] });
      // The first event may sit before the position asked (other tenants share the count) or not.
      const next = (await iterator.next()).value as SubscriptionMessage;
      const event = next.kind === 'event' ? next.event : undefined;
      expect(event?.globalPosition ?? 0).toBeGreaterThanOrEqual(elsewhere.lastGlobalPosition + 2);
    } finally {
      controller.abort();
      await iterator.return?.();
    }
  });
}

function payloadBytes(events: readonly RecordedEvent[]): number {
  return events.reduce((sum, event) => sum + event.payload.byteLength, 0);
}
