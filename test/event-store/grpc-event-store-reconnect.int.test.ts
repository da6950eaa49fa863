// What the gRPC client adds to the port: it says promptly when no server answers, and a
// subscription outlives a server restart without losing or repeating an event.

import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/event-store/errors.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { appendMany, newTenant, takeEvents, untilCaughtUp } from './contract.ts';
import { serveOnLoopback, unusedPort } from './grpc/loopback.ts';
import { withSubscribe } from '../support/stores.ts';
import type { LoopbackServer } from './grpc/loopback.ts';

describe('GrpcEventStore', () => {
  it('refuses to connect within a few seconds when nothing listens, naming the address', async () => {
    const address = `127.0.0.1:${await unusedPort()}`;
    const started = Date.now();
    const refused = await GrpcEventStore.connect({ address, connectTimeoutMs: 1_000 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect(String(refused)).toContain(address);
    expect(Date.now() - started).toBeLessThan(5_000);
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
      const before = await takeEvents(iterator, 5);

      await server.stop();
      server = undefined;
      // Written while the server is down: the subscription must still deliver these.
      await appendMany(backend, tenantId, 'acc-2', 5);
      server = await serveOnLoopback(backend, { port });
      await appendMany(store, tenantId, 'acc-3', 5);

      const after = await takeEvents(iterator, 10);
      const delivered = [...before, ...after].map((event) => event.eventId);
      const stored = (await untilCaughtUp(backend.subscribe({ tenantId, fromPosition: 0 }))).map((event) => event.eventId);
      expect(delivered).toEqual(stored);
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
      // Long enough for at least one silence timeout and reconnect even on a loaded machine.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
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
