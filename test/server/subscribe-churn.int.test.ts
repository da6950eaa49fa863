// Churn: subscriptions opened and cancelled by the thousand, and subscriptions to tenants
// nobody ever wrote to, must leave the server's heap and handles where they were.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { DEFAULT_LIMITS } from '../../src/event-store/limits.ts';
import { newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { PlainClient } from '../event-store/grpc/plain-client.ts';
import { heapAfterGc } from '../support/heap.ts';
import { until } from '../support/until.ts';

/**
 * Far below what a kept subscription would cost a thousand times over: before the memory
 * store let go of a cancelled subscriber's wake-up, 1 000 cycles grew the heap some 8 MB.
 */
const CYCLES_BOUND_BYTES = 3 * 1024 * 1024;
/**
 * Tenant ids of 32 KiB (this store allows them): 300 kept would be some 10 MB. The rest of
 * the server, gRPC included, wanders by a few hundred KB over 300 calls.
 */
const TENANT_ID_BYTES = 32 * 1024;
const TENANTS_BOUND_BYTES = 3 * 1024 * 1024;
/**
 * Node's HTTP/2 server ends a connection that resets streams in a fast burst of about a
 * thousand (its defence against "rapid reset" floods): the drill takes a new connection
 * every few hundred cycles, as a client that reconnects would.
 */
const CYCLES_PER_CONNECTION = 250;

describe('subscribe churn against the memory backend', () => {
  const store = new InMemoryEventStore(Date.now, { ...DEFAULT_LIMITS, textBytes: 2 * TENANT_ID_BYTES });
  let server: LoopbackServer | undefined;
  let plain: PlainClient | undefined;
  let cycles = 0;
  const client = (): PlainClient => {
    if (server === undefined) return expect.fail('no server');
    if (plain === undefined || ++cycles % CYCLES_PER_CONNECTION === 0) {
      plain?.close();
      plain = new PlainClient(server.address);
    }
    return plain;
  };
  beforeAll(async () => {
    server = await serveOnLoopback(store);
  });
  afterAll(async () => {
    plain?.close();
    await server?.stop();
    await store.close();
  });

  it('leaves heap and handles flat after 1 000 subscribe/cancel cycles', async () => {
    const tenant_id = newTenant();
    await client().append({ tenant_id, aggregate_id: 'a-1', aggregate_type: 'Churn', expected_aggregate_nonce: '0', events: [event()] });
    for (let cycle = 0; cycle < 100; cycle++) await subscribeAndCancel(client(), { tenant_id });
    const handles = resourceCount();
    const before = heapAfterGc();
    for (let cycle = 0; cycle < 1_000; cycle++) await subscribeAndCancel(client(), { tenant_id });
    await until(() => resourceCount() <= handles, () => `handles back to ${handles}, now ${resourceCount()}`);
    expect(heapAfterGc() - before).toBeLessThan(CYCLES_BOUND_BYTES);
  }, 120_000);

  it('keeps nothing of 300 tenants that were only subscribed to', async () => {
    const tenant = (index: number): string => `${index}-${'u'.repeat(TENANT_ID_BYTES)}`;
    for (let index = 0; index < 50; index++) await subscribeAndCancel(client(), { tenant_id: tenant(index) });
    const before = heapAfterGc();
    for (let index = 50; index < 350; index++) await subscribeAndCancel(client(), { tenant_id: tenant(index) });
    // The server lets go of a cancelled call a moment after the client has: on a busy
    // machine some are still on their way out. A kept tenant never would be.
    let grown = Number.POSITIVE_INFINITY;
    await until(() => (grown = heapAfterGc() - before) < TENANTS_BOUND_BYTES, () => `the heap to settle within ${TENANTS_BOUND_BYTES} bytes of where it was (${grown} above)`);
  }, 120_000);
});

// ---- fixtures -------------------------------------------------------------------------

/** Subscribes, waits for the first response (an event or caught-up), and cancels. */
async function subscribeAndCancel(client: PlainClient, request: object): Promise<void> {
  const call = client.subscribe(request, (bytes) => bytes);
  await new Promise<void>((resolve, reject) => {
    call.once('data', () => resolve());
    call.once('error', reject);
  });
  const ended = new Promise<void>((resolve) => call.once('close', () => resolve()));
  call.on('error', () => undefined);
  call.cancel();
  await ended;
}

function resourceCount(): number {
  return process.getActiveResourcesInfo().length;
}

function event(): object {
  return { meta: { event_id: `e-${Math.random()}`, event_type: 'Noted', aggregate_nonce: '1', event_version: 1 }, payload: Buffer.from('{}') };
}
