// One client over several servers (`--addr a,b`): calls are spread round robin over the
// servers that answer, and when one goes away, reads and keyed appends go on through the
// others. (With PostgreSQL behind them, postgres-failover.int.test.ts shows a subscription
// resuming on another server without a gap.)

import { afterEach, expect, it } from 'vitest';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { until } from '../support/until.ts';
import { account, newEvent, newTenant } from './contract.ts';
import { serveOnLoopback } from './grpc/loopback.ts';
import type { LoopbackServer } from './grpc/loopback.ts';

const cleanUps: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});

async function twoServers(): Promise<{ stores: InMemoryEventStore[]; servers: LoopbackServer[]; client: GrpcEventStore }> {
  // Each server with a store of its own, so where an append landed shows which server took it.
  const stores = [new InMemoryEventStore(), new InMemoryEventStore()];
  const servers = await Promise.all(stores.map((store) => serveOnLoopback(store)));
  cleanUps.push(async () => void (await Promise.all(servers.map((server) => server.stop()))));
  const client = await GrpcEventStore.connect({ address: servers.map((server) => server.address).join(',') });
  cleanUps.push(() => client.close());
  return { stores, servers, client };
}

/** How many events a store holds for the tenant, over the streams `s-0` .. `s-(count-1)`. */
async function held(store: InMemoryEventStore, tenantId: string, count: number): Promise<number> {
  let events = 0;
  for (let i = 0; i < count; i++) events += (await readWholeStream(store, { tenantId, aggregateId: `s-${i}` })).length;
  return events;
}

it('spreads calls over every server that answers', async () => {
  const { stores, client } = await twoServers();
  const tenantId = newTenant();
  let appended = 0;
  // Round robin alternates once both connections are up; until then all go to the first.
  await until(
    async () => {
      await client.append({ tenantId, stream: account(`s-${appended}`), expectedVersion: 0, events: [newEvent()] });
      appended++;
      const [first, second] = await Promise.all(stores.map((store) => held(store, tenantId, appended)));
      return first! > 0 && second! > 0 && first! + second! === appended;
    },
    () => `appends to reach both servers (${appended} sent)`,
  );
});

it('sends every call to the server left when one stops', async () => {
  const { stores, servers, client } = await twoServers();
  const tenantId = newTenant();
  await servers[0]!.stop();
  // Whichever server the channel would have picked, every call lands on the one left.
  for (let i = 0; i < 10; i++) {
    await client.append({ tenantId, stream: account(`s-${i}`), expectedVersion: 0, idempotencyKey: `k-${i}`, events: [newEvent()] });
    expect((await client.readStream({ tenantId, aggregateId: `s-${i}`, fromVersion: 0, maxCount: 0, direction: 'forward' })).events).toHaveLength(1);
  }
  expect(await held(stores[1]!, tenantId, 10)).toBe(10);
  expect(await held(stores[0]!, tenantId, 10)).toBe(0);
});
