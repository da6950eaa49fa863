// The PostgreSQL backend as it is deployed: several `pnpm event-store` processes on one
// database and schema, clients talking gRPC to them, and one of them killed mid-write.

import { afterAll, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/event-store/event-store.ts';
import { GrpcEventStore } from '../../../src/event-store/grpc-event-store.ts';
import { expectExactlyOnceInOrder, receiveAll, runWriters, sleep, withLiveSubscription } from '../../support/live-delivery.ts';
import { describePostgres, dropSchema, freshSchemaName } from '../../support/postgres.ts';
import type { ServerProcess } from '../../support/server-process.ts';
import { startServerProcess, stopAll } from '../../support/server-process.ts';
import { account, newEvent, newTenant, untilCaughtUp } from '../contract.ts';

describePostgres('PostgreSQL backend across server processes', (databaseUrl) => {
  const servers = new Set<ServerProcess>();
  const clients = new Set<GrpcEventStore>();
  const schemas: string[] = [];
  afterAll(async () => {
    await Promise.all([...clients].map((client) => client.close()));
    await stopAll(servers);
    for (const schema of schemas) await dropSchema(databaseUrl, schema);
  });

  const newSchema = (): string => {
    const schema = freshSchemaName();
    schemas.push(schema);
    return schema;
  };
  const startServer = async (schema: string, port?: number): Promise<ServerProcess> => {
    const server = await startServerProcess({ BACKEND: 'postgres', DATABASE_URL: databaseUrl, PG_SCHEMA: schema }, port);
    servers.add(server);
    return server;
  };
  const connect = async (server: ServerProcess): Promise<GrpcEventStore> => {
    const client = await GrpcEventStore.connect({ address: server.address, connectTimeoutMs: 5_000 });
    clients.add(client);
    return client;
  };

  it('brings up two servers started at once on an empty schema', async () => {
    const schema = newSchema();
    const [first, second] = await Promise.all([startServer(schema), startServer(schema)]);
    const tenantId = newTenant();
    await (await connect(first)).append({ tenantId, stream: account('a-1'), expectedVersion: 0, events: [newEvent()] });
    const result = await (await connect(second)).append({ tenantId, stream: account('a-1'), expectedVersion: 1, events: [newEvent()] });
    expect(result.lastVersion).toBe(2);
  });

  it('delivers every event that 8 writers through two servers had acknowledged, exactly once, in order', async () => {
    const schema = newSchema();
    const [first, second] = await Promise.all([startServer(schema), startServer(schema)]);
    const stores = [await connect(first), await connect(second)];
    const tenantId = newTenant();
    await withLiveSubscription(stores[1]!, tenantId, async (subscription) => {
      const acknowledged = await runWriters({ tenantId, stores, writers: 8, appendsPerWriter: 30 });
      expect(acknowledged.length).toBeGreaterThanOrEqual(8 * 30);
      expectExactlyOnceInOrder(acknowledged, await receiveAll(subscription, new Set(acknowledged.map((e) => e.eventId))));
    });
  });

  it('keeps every acknowledged event when a server is killed with SIGKILL mid-write; its subscriber resumes without a gap', async () => {
    const schema = newSchema();
    const [doomed, survivor] = await Promise.all([startServer(schema), startServer(schema)]);
    const stores = [await connect(doomed), await connect(survivor)];
    const watcher = await connect(doomed);
    const tenantId = newTenant();
    await withLiveSubscription(watcher, tenantId, async (subscription) => {
      const writing = runWriters({ tenantId, stores, writers: 8, appendsPerWriter: 60 });
      await sleep(300);
      await doomed.stop('SIGKILL');
      // Back on the same port, where the watcher's client reconnects from its last position.
      const restarted = await startServer(schema, doomed.port);
      const acknowledged = await writing;
      // The writers through the killed server stopped part-way: the kill landed mid-write.
      expect(acknowledged.length).toBeLessThan(8 * 60 * 2);
      const after = await runWriters({ tenantId, stores: [await connect(restarted)], writers: 2, appendsPerWriter: 5 });
      expect(after).toHaveLength(2 * (1 + 2 + 3 + 1 + 2));
      const everyAcknowledged = [...acknowledged, ...after];

      const received = await receiveAll(subscription, new Set(everyAcknowledged.map((e) => e.eventId)), 30_000);
      expectExactlyOnceInOrder(everyAcknowledged, received);
      // Nothing missed, not even an event committed but never acknowledged (its server
      // died first): what the watcher got is exactly the log up to where it stands.
      const stored = await untilCaughtUp((await connect(restarted)).subscribe({ tenantId, fromPosition: 0 }));
      const lastReceived = received.at(-1)!.globalPosition;
      expect(ids(received)).toEqual(ids(stored.filter((e) => e.globalPosition <= lastReceived)));
      expect(new Set(ids(stored)).size).toBe(stored.length);
    });
  });
});

function ids(events: readonly RecordedEvent[]): string[] {
  return events.map((event) => event.eventId);
}
