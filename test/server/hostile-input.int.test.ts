// The hostile-input drill, on both backends: ten thousand seeded requests to every method,
// most malformed, mutated or oversized. The server must answer each with a status code,
// never INTERNAL, never crash, and its log must hold exactly what the valid requests wrote.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, credentials, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import type { EventStore } from '../../src/event-store/event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { untilCaughtUp } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { messageType } from '../event-store/grpc/plain-client.ts';
import { describePostgres, startPostgresStore, withClient } from '../support/postgres.ts';
import { drillCalls } from './hostile-requests.ts';
import type { DrillCall } from './hostile-requests.ts';

const CALLS = 10_000;
const IN_FLIGHT = 16;
/** Every answer a refusal may carry; INTERNAL, UNKNOWN or a deadline means the server failed. */
const REFUSALS = new Set(['INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'ABORTED', 'ALREADY_EXISTS']);

interface Backend {
  readonly store: EventStore;
  /** How many events the store holds in all tenants. */
  readonly storedEvents: () => Promise<number>;
  readonly stop: () => Promise<void>;
}

describeDrill('memory', async () => {
  const store = new InMemoryEventStore();
  // Positions are taken only by stored events: one more append tells how many there are.
  const storedEvents = async (): Promise<number> => {
    const probe = { eventId: 'probe', eventType: 'Probe', eventVersion: 1, contentType: '', payload: new Uint8Array() };
    const appended = await store.append({ tenantId: 'probe', stream: { aggregateType: 'Probe', aggregateId: 'probe' }, expectedVersion: 0, events: [probe] });
    return appended.lastGlobalPosition - 1;
  };
  return { store, storedEvents, stop: () => store.close() };
});

describePostgres('the hostile-input drill on PostgreSQL', (databaseUrl) => {
  describeDrill('postgres', async () => {
    const started = await startPostgresStore(databaseUrl);
    const storedEvents = (): Promise<number> =>
      withClient(databaseUrl, async (client) => Number((await client.query(`SELECT count(*) AS n FROM "${started.schema}".events`)).rows[0]?.n));
    return { store: started.store, storedEvents, stop: started.stop };
  });
});

function describeDrill(name: string, start: () => Promise<Backend>): void {
  describe(`hostile input (${name} backend)`, () => {
    let backend: Backend | undefined;
    let server: LoopbackServer | undefined;
    let client: Client | undefined;
    beforeAll(async () => {
      backend = await start();
      server = await serveOnLoopback(backend.store);
      client = new Client(server.address, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    });
    afterAll(async () => {
      client?.close();
      await server?.stop();
      await backend?.stop();
    });

    it(`answers ${CALLS} hostile requests with status codes and keeps exactly the valid writes`, async () => {
      if (backend === undefined || server === undefined || client === undefined) throw new Error('the drill did not start');
      const seed = Number(process.env['DRILL_SEED'] ?? 20261130);
      const tenants = { valid: `drill-valid-${seed}-${name}-${Date.now()}`, hostile: `drill-hostile-${seed}-${name}` };
      const calls = drillCalls(seed, CALLS, tenants);
      const wrong: string[] = [];
      const codes = new Map<string, number>();
      const validWrites = new Map<string, readonly string[]>();
      let storedByAcceptedCalls = 0;
      let answered = 0;
      const connected = client;
      const worker = async (): Promise<void> => {
        for (let next = calls.next(); next.done !== true; next = calls.next()) {
          const call = next.value;
          const code = await send(connected, call);
          answered++;
          codes.set(`${call.method} ${code}`, (codes.get(`${call.method} ${code}`) ?? 0) + 1);
          const acceptable = call.mustSucceed ? code === 'OK' : code === 'OK' || REFUSALS.has(code);
          if (!acceptable && wrong.length < 10) wrong.push(`${call.kind}: ${code}`);
          if (code === 'OK' && call.method === 'Append') storedByAcceptedCalls += eventCount(call.bytes);
          if (code === 'OK' && call.writes !== undefined) validWrites.set(call.writes.aggregateId, call.writes.eventIds);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));

      expect(wrong, `answers by method and code: ${JSON.stringify(Object.fromEntries(codes))}`).toEqual([]);
      expect(answered).toBe(CALLS);
      expect(server.log.filter((line) => /unexpected error/.test(line))).toEqual([]);

      // The valid tenant holds exactly the valid appends, each stream in its order.
      const log = await untilCaughtUp(backend.store.subscribe({ tenantId: tenants.valid, fromPosition: 0 }));
      const byStream = new Map<string, string[]>();
      for (const event of log) byStream.set(event.stream.aggregateId, [...(byStream.get(event.stream.aggregateId) ?? []), event.eventId]);
      expect(byStream).toEqual(validWrites);
      expect(validWrites.size).toBeGreaterThan(100);
      // And nothing anywhere came from a refused call.
      expect(await backend.storedEvents()).toBe(storedByAcceptedCalls);
    }, 180_000);
  });
}

/** Sends the bytes as they are and resolves to the status code's name; a subscription counts as OK at its first response. */
function send(client: Client, call: DrillCall): Promise<string> {
  const path = `/eventstore.v1.EventStore/${call.method}`;
  const identity = (bytes: Buffer): Buffer => bytes;
  const deadline = Date.now() + 30_000;
  const name = (error: ServiceError): string => status[error.code] ?? String(error.code);
  if (call.method !== 'Subscribe') {
    return new Promise((resolve) => {
      client.makeUnaryRequest(path, identity, identity, call.bytes, { deadline }, (error) => resolve(error ? name(error) : 'OK'));
    });
  }
  return new Promise((resolve) => {
    const stream = client.makeServerStreamRequest(path, identity, identity, call.bytes, { deadline });
    stream.on('data', () => {
      resolve('OK');
      stream.cancel();
    });
    // After the first response the promise is settled, and the cancel's error changes nothing.
    stream.on('error', (error: ServiceError) => resolve(name(error)));
    stream.on('end', () => resolve('ended without a response'));
  });
}

/** How many events the server stored for an accepted append: as many as it decoded. */
function eventCount(bytes: Buffer): number {
  const decoded: unknown = messageType('eventstore.v1.AppendRequest').deserialize(bytes);
  const events = typeof decoded === 'object' && decoded !== null && 'events' in decoded ? decoded.events : [];
  return Array.isArray(events) ? events.length : 0;
}
