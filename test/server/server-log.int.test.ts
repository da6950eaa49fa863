// What the server logs: failures, not ordinary answers. A version conflict is the store
// doing its job (the writer reads and decides again), so it leaves no line in the log;
// a store that breaks still does (internal-errors.int.test.ts shows what is kept there).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcurrencyError } from '../../src/event-store/errors.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { account, newEvent, newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';

describe('the server log', () => {
  const memory = new InMemoryEventStore();
  let server: LoopbackServer | undefined;
  let client: GrpcEventStore | undefined;
  beforeAll(async () => {
    server = await serveOnLoopback(memory);
    client = await GrpcEventStore.connect({ address: server.address });
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await memory.close();
  });

  it('has no line for a version conflict, which is an answer and not a failure', async () => {
    const store = client ?? expect.fail('no client');
    const tenantId = newTenant();
    await store.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] });
    const second = store.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] });
    await expect(second).rejects.toBeInstanceOf(ConcurrencyError);
    expect(server?.log).toEqual([]);
  });

  it('still logs a request the store refuses as malformed', async () => {
    const store = client ?? expect.fail('no client');
    await expect(store.append({ tenantId: '', stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] })).rejects.toThrow();
    expect(server?.log.join('\n')).toMatch(/^Append failed: /m);
  });
});
