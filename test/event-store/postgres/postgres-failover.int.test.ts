// Several PostgreSQL-backed servers behind one client address (`--addr a,b`): when a server
// dies, writers go on through the other with nothing lost or doubled, and a subscription
// resumes on the other from where it was, without a gap or a repeat.

import { readFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { GrpcEventStore } from '../../../src/event-store/grpc-event-store.ts';
import type { Acknowledged } from '../../support/live-delivery.ts';
import { eventsOfWorkload, expectExactlyOnceInOrder, receiveAll, runWriters, withLiveSubscription } from '../../support/live-delivery.ts';
import { describePostgres, dropSchema, freshSchemaName } from '../../support/postgres.ts';
import type { ServerProcess } from '../../support/server-process.ts';
import { startServerProcess, stopAll } from '../../support/server-process.ts';
import { until } from '../../support/until.ts';
import { newTenant } from '../contract.ts';

describePostgres('one client over several PostgreSQL-backed servers', (databaseUrl) => {
  const servers = new Set<ServerProcess>();
  const clients = new Set<GrpcEventStore>();
  const schema = freshSchemaName();
  afterAll(async () => {
    await Promise.all([...clients].map((client) => client.close()));
    await stopAll(servers);
    await dropSchema(databaseUrl, schema);
  });

  const startServer = async (port?: number): Promise<ServerProcess> => {
    const server = await startServerProcess({ BACKEND: 'postgres', DATABASE_URL: databaseUrl, PG_SCHEMA: schema }, port);
    servers.add(server);
    return server;
  };
  const connect = async (address: string): Promise<GrpcEventStore> => {
    const client = await GrpcEventStore.connect({ address, connectTimeoutMs: 5_000 });
    clients.add(client);
    return client;
  };

  it('goes on through the other server when one is killed, each time; the subscription resumes without a gap', async () => {
    const [first, second] = [await startServer(), await startServer()];
    const address = `${first.address},${second.address}`;
    const writer = await connect(address);
    const watcher = await connect(address);
    const tenantId = newTenant();
    const writers = 6;
    const appendsPerWriter = 40;
    // Fewer events than a workload writes: when the kill comes, every writer is mid-way.
    const killAfterEvents = 60;

    /** A workload through the writer's client, with `doomed` killed part-way through; no writer may stop. */
    const workloadKilling = async (doomed: ServerProcess): Promise<Acknowledged[]> => {
      let enoughWritten: () => void = () => undefined;
      const written = new Promise<void>((resolve) => (enoughWritten = resolve));
      const writing = runWriters({
        tenantId,
        stores: [writer],
        writers,
        appendsPerWriter,
        keyed: true,
        onAcknowledged: (eventsSoFar) => {
          if (eventsSoFar >= killAfterEvents) enoughWritten();
        },
      });
      writing.catch(() => undefined); // awaited below; not reported twice meanwhile
      await Promise.race([written, writing]);
      await doomed.stop('SIGKILL');
      const { acknowledged, stopped } = await writing;
      expect(stopped).toEqual([]);
      expect(acknowledged).toHaveLength(eventsOfWorkload(writers, appendsPerWriter));
      return acknowledged;
    };

    await withLiveSubscription(watcher, tenantId, async (subscription) => {
      const beforeRestart = await workloadKilling(first);
      // The first server back on its port; the clients reconnect to it on their own. The
      // subscription lives on one of the two servers, so killing the second one next makes
      // it move at least once, whichever it was on.
      const restarted = await startServer(first.port);
      // (grpc-js lets clients of one target share their connections: one for both clients.)
      await until(() => connectionsTo(restarted.port) >= 1, `the clients to reconnect to port ${restarted.port}`, 30_000);
      const afterRestart = await workloadKilling(second);

      const acknowledged = [...beforeRestart, ...afterRestart];
      const received = await receiveAll(subscription, new Set(acknowledged.map((event) => event.eventId)), 60_000);
      expectExactlyOnceInOrder(acknowledged, received);
    });
  }, 180_000); // three server starts and two workloads through kills: generous for a loaded machine, still bounded
});

/** Established TCP connections from this machine to a loopback port: this process's clients, here. */
function connectionsTo(port: number): number {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[2] === `0100007F:${portHex}` && fields[3] === '01').length;
}
