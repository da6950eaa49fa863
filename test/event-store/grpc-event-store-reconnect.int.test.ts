// What the gRPC client adds to the port: it says promptly when no server answers, a
// subscription outlives a server restart without losing or repeating an event and reports
// being caught up once, and gives up, by name, on a server that does not come back.

import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/event-store/errors.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import type { SubscriptionMessage } from '../../src/event-store/event-store.ts';
import { appendMany, newTenant, takeEvents, untilCaughtUp } from './contract.ts';
import { serveOnLoopback, unusedPort } from './grpc/loopback.ts';
import { withSubscribe } from '../support/stores.ts';
import { until } from '../support/until.ts';
import type { LoopbackServer } from './grpc/loopback.ts';

describe('GrpcEventStore', () => {
  it('refuses to connect when nothing listens within its connect timeout, naming the address', async () => {
    const address = `127.0.0.1:${await unusedPort()}`;
    const refused = await GrpcEventStore.connect({ address, connectTimeoutMs: 1_000 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect(String(refused)).toContain(address);
    // The timeout it was given is what ended the wait, not a default of its own.
    expect(String(refused)).toContain('no answer within 1000 ms');
  });

  it('follows a subscription across a server restart on the same port with no gap and no repeat', async () => {
    const backend = new InMemoryEventStore();
    const tenantId = newTenant();
    let server: LoopbackServer | undefined = await serveOnLoopback(backend);
    const { port, address } = server;
    const store = await GrpcEventStore.connect({ address });
    const controller = new AbortController();
    const iterator = store.subscribe({ tenantId, fromPosition: 0, signal: controller.signal })[Symbol.asyncIterator]();
    try {
      await appendMany(store, tenantId, 'acc-1', 5);
      const before = await takeMessages(iterator, 5);

      await server.stop();
      server = undefined;
      // Written while the server is down: the subscription must still deliver these.
      await appendMany(backend, tenantId, 'acc-2', 5);
      server = await serveOnLoopback(backend, { port });
      await appendMany(store, tenantId, 'acc-3', 5);

      const after = await takeMessages(iterator, 10);
      const messages = [...before, ...after];
      const delivered = messages.flatMap((message) => (message.kind === 'event' ? [message.event.eventId] : []));
      const stored = (await untilCaughtUp(backend.subscribe({ tenantId, fromPosition: 0 }))).map((event) => event.eventId);
      expect(delivered).toEqual(stored);
      // The new server's own caught-up marker is not passed on: the caller is live already.
      expect(messages.filter((message) => message.kind === 'caught-up')).toHaveLength(1);
    } finally {
      controller.abort();
      await iterator.return?.();
      await store.close();
      await server?.stop();
      await backend.close();
    }
  });

  it('takes a silent connection for lost and resumes it with no gap and no repeat', async () => {
    const backend = new InMemoryEventStore();
    // A server that never sends heartbeats looks, once idle, like a connection gone dead.
    let subscribeCalls = 0;
    const counting = withSubscribe(backend, (request) => {
      subscribeCalls++;
      return backend.subscribe(request);
    });
    const server = await serveOnLoopback(counting, { heartbeatMs: 600_000 });
    const store = await GrpcEventStore.connect({ address: server.address, silenceTimeoutMs: 200 });
    const tenantId = newTenant();
    const iterator = store.subscribe({ tenantId, fromPosition: 0 })[Symbol.asyncIterator]();
    try {
      await appendMany(backend, tenantId, 'acc-1', 2);
      const first = await takeEvents(iterator, 2);
      const waiting = takeEvents(iterator, 2);
      await until(() => subscribeCalls >= 2, 'the client to take the silence for a lost connection and subscribe again');
      await appendMany(backend, tenantId, 'acc-1', 2);
      const second = await waiting;
      expect([...first, ...second].map((event) => event.version)).toEqual([1, 2, 3, 4]);
      expect(subscribeCalls).toBeGreaterThanOrEqual(2);
    } finally {
      await iterator.return?.();
      await store.close();
      await server.stop();
      await backend.close();
    }
  });

  it('reports caught-up once, however many empty responses the server sends after it', async () => {
    const backend = new InMemoryEventStore();
    const tenantId = newTenant();
    await appendMany(backend, tenantId, 'acc-1', 2);
    const [first, second] = (await backend.readStream({ tenantId, aggregateId: 'acc-1', fromVersion: 0, maxCount: 0, direction: 'forward' })).events;
    // On the wire a heartbeat is an empty response, as the caught-up marker is: a store
    // that says caught-up three times makes the server send three of them.
    const talkative = withSubscribe(backend, async function* (request) {
      yield { kind: 'event', event: first! };
      for (let i = 0; i < 3; i++) yield { kind: 'caught-up' };
      yield { kind: 'event', event: second! };
      await new Promise((resolve) => request.signal?.addEventListener('abort', resolve, { once: true }));
    });
    const server = await serveOnLoopback(talkative);
    const store = await GrpcEventStore.connect({ address: server.address });
    const iterator = store.subscribe({ tenantId, fromPosition: 0 })[Symbol.asyncIterator]();
    try {
      const kinds = (await takeMessages(iterator, 2)).map((message) => message.kind);
      expect(kinds).toEqual(['event', 'caught-up', 'event']);
    } finally {
      await iterator.return?.();
      await store.close();
      await server.stop();
      await backend.close();
    }
  });

  it('gives up on a server that does not come back, after its limit, with StoreUnavailableError', async () => {
    const backend = new InMemoryEventStore();
    let server: LoopbackServer | undefined = await serveOnLoopback(backend);
    const store = await GrpcEventStore.connect({ address: server.address, reconnectGiveUpMs: 300 });
    const iterator = store.subscribe({ tenantId: newTenant(), fromPosition: 0 })[Symbol.asyncIterator]();
    try {
      expect((await iterator.next()).value).toEqual({ kind: 'caught-up' });
      await server.stop();
      server = undefined;
      const failure = await withinSeconds(15, iterator.next().then(() => 'the subscription went on', (error: unknown) => error));
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect(String(failure)).toMatch(/could not resume the subscription for 300 ms/);
    } finally {
      await store.close();
      await iterator.return?.().catch(() => undefined);
      await server?.stop();
      await backend.close();
    }
  });

  it('ends open subscriptions quietly when closed', async () => {
    const backend = new InMemoryEventStore();
    const server = await serveOnLoopback(backend);
    try {
      const store = await GrpcEventStore.connect({ address: server.address });
      const iterator = store.subscribe({ tenantId: newTenant(), fromPosition: 0 })[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toEqual({ kind: 'caught-up' });
      const waiting = iterator.next();
      await store.close();
      expect((await waiting).done).toBe(true);
    } finally {
      await server.stop();
      await backend.close();
    }
  });
});

// ---- fixtures -------------------------------------------------------------------------

/** Every message, markers included, until `count` events have arrived. */
async function takeMessages(iterator: AsyncIterator<SubscriptionMessage>, count: number): Promise<SubscriptionMessage[]> {
  const messages: SubscriptionMessage[] = [];
  let events = 0;
  while (events < count) {
    const next = await withinSeconds(10, iterator.next());
    if (next.done === true) throw new Error(`the subscription ended after ${events} of ${count} events`);
    messages.push(next.value);
    if (next.value.kind === 'event') events++;
  }
  return messages;
}

async function withinSeconds<T>(seconds: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing happened within ${seconds} s`)), seconds * 1_000);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
