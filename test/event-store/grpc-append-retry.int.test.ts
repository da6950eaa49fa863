// A lost answer to an append: the server committed, the client never heard. With an
// idempotency key the client sends the same request again and gets the first answer, so
// the events are stored once; without one it says the outcome is unknown.

import { describe, expect, it } from 'vitest';
import type { AppendRequest, EventStore } from '../../src/event-store/event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { StoreUnavailableError } from '../../src/event-store/errors.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { account, newEvent, newTenant } from './contract.ts';
import { serveOnLoopback } from './grpc/loopback.ts';

describe('GrpcEventStore append when the answer is lost', () => {
  it('sends a keyed append again and stores its events once', async () => {
    const { store, backend, stop } = await slowToAnswerOnce();
    try {
      const tenantId = newTenant();
      const result = await store.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, idempotencyKey: 'cmd-1', events: [newEvent()] });
      expect(result.lastVersion).toBe(1);
      expect(await readWholeStream(backend, { tenantId, aggregateId: 'acc-1' })).toHaveLength(1);
      expect(backend.appendCalls).toBe(2);
    } finally {
      await stop();
    }
  });

  it('does not resend an append without a key, and says its outcome is unknown', async () => {
    const { store, backend, stop } = await slowToAnswerOnce();
    try {
      const tenantId = newTenant();
      const failure = await store.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect(String(failure)).toContain('whether the append was recorded is unknown');
      expect(backend.appendCalls).toBe(1);
      expect(await readWholeStream(backend, { tenantId, aggregateId: 'acc-1' })).toHaveLength(1);
    } finally {
      await stop();
    }
  });
});

// ---- fixtures -------------------------------------------------------------------------

/** A memory store whose first append commits, then answers only after the client's deadline. */
class SlowFirstAnswer extends InMemoryEventStore implements EventStore {
  appendCalls = 0;

  override async append(request: AppendRequest) {
    const result = await super.append(request);
    if (++this.appendCalls === 1) await new Promise((resolve) => setTimeout(resolve, 600));
    return result;
  }
}

async function slowToAnswerOnce() {
  const backend = new SlowFirstAnswer();
  const server = await serveOnLoopback(backend);
  const store = await GrpcEventStore.connect({ address: server.address, callTimeoutMs: 200 });
  return {
    store,
    backend,
    stop: async () => {
      await store.close();
      await server.stop();
    },
  };
}
