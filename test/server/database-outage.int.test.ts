// The database outage drill: the server reaches PostgreSQL through a TCP proxy the test
// controls, which then refuses and cuts every connection for a while. Health must say
// NOT_SERVING during the outage and SERVING after it, appends meanwhile fail UNAVAILABLE
// with nothing half-written and no database address in the answer, the server stays up,
// and writers and a subscriber across the outage lose nothing and see nothing twice.

import { Client, credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { StoreUnavailableError } from '../../src/event-store/errors.ts';
import type { EventStore } from '../../src/event-store/event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { DatabaseProbe } from '../../src/event-store/postgres/probe.ts';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.ts';
import { newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { PlainClient } from '../event-store/grpc/plain-client.ts';
import { expectExactlyOnceInOrder, receiveAll, runWriters, withLiveSubscription } from '../support/live-delivery.ts';
import { describePostgres, dropSchema, freshSchemaName } from '../support/postgres.ts';
import { startServerProcess } from '../support/server-process.ts';
import { proxyDatabase } from '../support/tcp-proxy.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';
import { healthOf } from '../support/health.ts';
import { until } from '../support/until.ts';

describePostgres('a PostgreSQL server whose database goes away and comes back', (databaseUrl) => {
  const schema = freshSchemaName();
  let proxy: TcpProxy | undefined;
  let store: PostgresEventStore | undefined;
  let probe: DatabaseProbe | undefined;
  let server: LoopbackServer | undefined;
  let health: Client | undefined;
  const clients: EventStore[] = [];
  beforeAll(async () => {
    const proxied = await proxyDatabase(databaseUrl);
    proxy = proxied.proxy;
    store = await PostgresEventStore.connect({ connectionString: proxied.connectionString, schema, connectTimeoutMs: 2_000 });
    probe = new DatabaseProbe(proxied.connectionString);
    server = await serveOnLoopback(store, { health: { probe, intervalMs: 250, timeoutMs: 1_000 } });
    health = new Client(server.address, credentials.createInsecure());
  });
  afterAll(async () => {
    proxy?.refuse(false);
    await Promise.all(clients.map((client) => client.close()));
    health?.close();
    await server?.stop();
    await probe?.close();
    await store?.close();
    await proxy?.close();
    await dropSchema(databaseUrl, schema);
  });

  it('says NOT_SERVING during the outage and SERVING after it; writers and a subscriber lose nothing and see nothing twice', async () => {
    const running = (): LoopbackServer => server ?? expect.fail('no server');
    const tcp = (): TcpProxy => proxy ?? expect.fail('no proxy');
    const tenantId = newTenant();
    const connect = async (): Promise<EventStore> => {
      const client = await GrpcEventStore.connect({ address: running().address, reconnectGiveUpMs: 60_000 });
      clients.push(client);
      return client;
    };
    const writers = [await connect(), await connect()];
    const follower = await connect();
    expect(await healthOf(health)).toBe('SERVING');

    await withLiveSubscription(follower, tenantId, async (subscription) => {
      let acknowledged = 0;
      let refusedStream = '';
      let writesRefused = 0;
      let acknowledgedAtRestore = 0;
      const outage = async (): Promise<{ notServingMs: number; servingMs: number }> => {
        await until(() => acknowledged >= 40, 'the first 40 events acknowledged');
        const startedAt = Date.now();
        tcp().refuse(true);
        tcp().cut();
        await until(async () => (await healthOf(health)) === 'NOT_SERVING', 'health NOT_SERVING');
        const notServingMs = Date.now() - startedAt;
        refusedStream = await expectRefusedAppend(running().address, tenantId, tcp().address);
        // The outage lasts until writers and the subscriber have both run into it.
        await until(() => writesRefused >= 8, 'writers refused during the outage');
        await until(() => running().log.some((line) => line.startsWith('Subscribe failed: UNAVAILABLE')), 'the subscription cut by the outage');
        acknowledgedAtRestore = acknowledged;
        const endedAt = Date.now();
        tcp().refuse(false);
        await until(async () => (await healthOf(health)) === 'SERVING', 'health SERVING again');
        return { notServingMs, servingMs: Date.now() - endedAt };
      };
      const [outcome, timings] = await Promise.all([
        runWriters({
          tenantId,
          stores: writers,
          writers: 4,
          appendsPerWriter: 60,
          onAcknowledged: (soFar) => (acknowledged = soFar),
          retryOn: (error) => {
            if (!(error instanceof StoreUnavailableError)) return false;
            writesRefused++;
            return true;
          },
        }),
        outage(),
      ]);
      console.log(`database outage drill: NOT_SERVING ${timings.notServingMs} ms after the outage began, SERVING ${timings.servingMs} ms after it ended`);

      const received = await receiveAll(subscription, new Set(outcome.acknowledged.map((event) => event.eventId)), 60_000);
      expectExactlyOnceInOrder(outcome.acknowledged, received);
      expect(outcome.stopped).toEqual([]);
      expect(outcome.acknowledged.length).toBeGreaterThan(acknowledgedAtRestore);
      expect(received.filter((event) => event.stream.aggregateId === refusedStream)).toEqual([]);
      expect(await readWholeStream(store ?? expect.fail('no store'), { tenantId, aggregateId: refusedStream })).toEqual([]);
    });
    expect(running().log.join('\n')).toMatch(/health: the storage cannot be reached: NOT_SERVING[\s\S]*health: the storage answers again: SERVING/);
  }, 120_000);
});

describePostgres('the server process (`BACKEND=postgres`) through a database outage', (databaseUrl) => {
  it('says NOT_SERVING while the database is away, SERVING once it is back, keeps running, and exits 0 after', async () => {
    const schema = freshSchemaName();
    const { proxy, connectionString } = await proxyDatabase(databaseUrl);
    const server = await startServerProcess({ BACKEND: 'postgres', DATABASE_URL: connectionString, PG_SCHEMA: schema, PG_CONNECT_TIMEOUT_MS: '2000' });
    const health = new Client(server.address, credentials.createInsecure());
    try {
      expect(await healthOf(health)).toBe('SERVING');
      proxy.refuse(true);
      proxy.cut();
      // The default background probe, every 2 s: nothing calls the server meanwhile.
      await until(async () => (await healthOf(health)) === 'NOT_SERVING', () => `health NOT_SERVING:\n${server.output()}`);
      proxy.refuse(false);
      await until(async () => (await healthOf(health)) === 'SERVING', () => `health SERVING again:\n${server.output()}`);
      expect(server.output()).toMatch(/health: the storage cannot be reached: NOT_SERVING[\s\S]*health: the storage answers again: SERVING/);
    } finally {
      health.close();
      const exit = await server.stop('SIGTERM');
      await proxy.close();
      await dropSchema(databaseUrl, schema);
      expect(exit).toEqual({ code: 0, signal: null });
    }
  }, 60_000);
});

/** An append during the outage: UNAVAILABLE with a ref, no database address, and nothing stored after. */
async function expectRefusedAppend(address: string, tenantId: string, databaseAddress: string): Promise<string> {
  const plain = new PlainClient(address, { deadlineMs: 20_000 });
  try {
    const aggregateId = `outage-${uuidv7()}`;
    const meta = { event_id: uuidv7(), event_type: 'Noted', event_version: 1, content_type: 'application/json', aggregate_nonce: '1' };
    const events = [{ meta, payload: Buffer.from('{}') }, { meta: { ...meta, event_id: uuidv7(), aggregate_nonce: '2' }, payload: Buffer.from('{}') }];
    const request = { tenant_id: tenantId, aggregate_id: aggregateId, aggregate_type: 'BankAccount', expected_aggregate_nonce: '0', idempotency_key: '', events };
    const outcome = await plain.append(request);
    if (outcome.ok) throw new Error('an append during the outage succeeded');
    expect(status[outcome.error.code]).toBe('UNAVAILABLE');
    expect(outcome.error.details).toMatch(/^the event store cannot reach its storage right now; try again shortly \(ref [0-9a-f]{8}\)$/);
    expect(outcome.error.details).not.toContain(databaseAddress.split(':')[1]);
    return aggregateId;
  } finally {
    plain.close();
  }
}
