// The memory backend's own limits: a ceiling on what it holds, past which appends are
// refused and nothing is lost, and no memory spent on tenants that are merely asked about.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { NewEvent } from '../../src/event-store/event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { InvalidRequestError, LimitExceededError } from '../../src/event-store/errors.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { DEFAULT_LIMITS, LIMIT_SPECS, LimitConfigError, limitsFromEnv } from '../../src/event-store/limits.ts';
import { heapAfterGc } from '../support/heap.ts';
import { account, failure, newTenant, untilCaughtUp } from './contract.ts';

describe('the memory backend at its ceiling', () => {
  it('refuses appends past EVENT_STORE_MEMORY_MAX_BYTES, keeps every acknowledged event readable', async () => {
    const store = new InMemoryEventStore(Date.now, { ...DEFAULT_LIMITS, memoryBytes: 20_000 });
    const tenantId = newTenant();
    const acknowledged: string[] = [];
    let refusal: unknown;
    for (let version = 0; refusal === undefined && version < 1_000; version++) {
      const event = kibEvent();
      try {
        await store.append({ tenantId, stream: account('a-1'), expectedVersion: version, idempotencyKey: `k-${version}`, events: [event] });
        acknowledged.push(event.eventId);
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(LimitExceededError);
    expect(String(refusal)).toMatch(/memory backend is full.*EVENT_STORE_MEMORY_MAX_BYTES=20000/);
    expect(acknowledged.length).toBeGreaterThan(10);

    const read = await readWholeStream(store, { tenantId, aggregateId: 'a-1' });
    expect(read.map((event) => event.eventId)).toEqual(acknowledged);
    expect((await untilCaughtUp(store.subscribe({ tenantId, fromPosition: 0 }))).length).toBe(acknowledged.length);
    // A retry of an acknowledged append still gets its answer: it stores nothing new.
    const [first] = read;
    const retried = await store.append({ tenantId, stream: account('a-1'), expectedVersion: 0, idempotencyKey: 'k-0', events: first === undefined ? [] : [first] });
    expect(retried.lastVersion).toBe(1);
    // Another tenant is refused alike: the ceiling is the store's, not the stream's.
    expect(await failure(store.append({ tenantId: newTenant(), stream: account('b-1'), expectedVersion: 0, events: [kibEvent()] }))).toBeInstanceOf(LimitExceededError);
    await store.close();
  });

  it('creates nothing for tenants that are only read or subscribed to', async () => {
    const store = new InMemoryEventStore();
    const ask = async (index: number): Promise<void> => {
      const tenantId = `${index}-${'t'.repeat(DEFAULT_LIMITS.textBytes - 10)}`;
      await store.readStream({ tenantId, aggregateId: 'a-1', fromVersion: 0, maxCount: 0, direction: 'forward' });
      const controller = new AbortController();
      const iterator = store.subscribe({ tenantId, fromPosition: 0, signal: controller.signal })[Symbol.asyncIterator]();
      await iterator.next();
      controller.abort();
      await iterator.return?.();
    };
    for (let index = 0; index < 100; index++) await ask(index);
    const before = heapAfterGc();
    for (let index = 100; index < 3_100; index++) await ask(index);
    // Each tenant kept would cost its id (about 500 bytes) and its maps: some 3 MB for these.
    expect(heapAfterGc() - before).toBeLessThan(1024 * 1024);
    await store.close();
  });

  it('refuses text no store could keep as given: a lone surrogate', async () => {
    const store = new InMemoryEventStore();
    const refused = await failure(store.append({ tenantId: newTenant(), stream: account('a-\uD800'), expectedVersion: 0, events: [kibEvent()] }));
    expect(refused).toBeInstanceOf(InvalidRequestError);
    expect(String(refused)).toMatch(/lone surrogate/);
    await store.close();
  });
});

describe('limits from the environment', () => {
  it('reads each variable, leaving unset and empty ones at their defaults', () => {
    const limits = limitsFromEnv({ EVENT_STORE_MAX_TEXT_BYTES: '256', EVENT_STORE_MAX_RESPONSE_BYTES: '' });
    expect(limits).toEqual({ ...DEFAULT_LIMITS, textBytes: 256 });
  });

  it('are listed in the README as limits.ts has them, each with its variable and default', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const mib = (bytes: number): string => (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0 ? `${bytes} (${bytes / (1024 * 1024)} MiB)` : String(bytes));
    for (const spec of Object.values(LIMIT_SPECS)) {
      expect(readme).toContain(`| \`${spec.variable}\` | ${spec.bounds} | ${mib(spec.defaultValue)} |`);
    }
  });

  it.each(['0', '-1', '1.5', 'lots', '1e400'])('refuses %s, naming the variable', (value) => {
    expect(() => limitsFromEnv({ EVENT_STORE_MAX_HEADERS: value })).toThrow(LimitConfigError);
    expect(() => limitsFromEnv({ EVENT_STORE_MAX_HEADERS: value })).toThrow(/EVENT_STORE_MAX_HEADERS must be a whole number/);
  });
});

function kibEvent(): NewEvent {
  return { eventId: uuidv7(), eventType: 'Noted', eventVersion: 1, contentType: 'application/octet-stream', payload: Buffer.alloc(1024, 1) };
}
