// What a client learns when the store behind the server fails unexpectedly: INTERNAL and
// nothing more, since the message may hold passwords, hosts or SQL; the operator finds
// the detail in the server's log, under the short ref the client's message carries too.
// PostgreSQL's own words (a unique key's detail, the database's host and port) stay there.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { v7 as uuidv7 } from 'uuid';
import type { EventStore } from '../../src/event-store/event-store.ts';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.ts';
import { newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { PlainClient } from '../event-store/grpc/plain-client.ts';
import type { Outcome } from '../event-store/grpc/plain-client.ts';
import { describePostgres, dropSchema, freshSchemaName } from '../support/postgres.ts';
import { proxyDatabase } from '../support/tcp-proxy.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';

describe('a server whose store fails unexpectedly', () => {
  let server: LoopbackServer | undefined;
  let plain: PlainClient | undefined;
  const client = (): PlainClient => plain ?? expect.fail('no client');
  beforeAll(async () => {
    server = await serveOnLoopback(leakyStore);
    plain = new PlainClient(server.address);
  });
  afterAll(async () => {
    plain?.close();
    await server?.stop();
  });

  it.each<[string, () => Promise<ServiceError>]>([
    ['Append', async () => failed(await client().append(appendRequest()))],
    ['ReadStream', async () => failed(await client().readStream({ tenant_id: newTenant(), aggregate_id: 'acc-1', from_aggregate_nonce: '1', max_count: 0, forward: true }))],
    ['Subscribe', () => subscriptionError(client(), { tenant_id: newTenant(), from_global_nonce: '0' })],
  ])('answers %s with INTERNAL and keeps the store\'s message to its own log', async (method, call) => {
    const error = await call();
    expect(status[error.code]).toBe('INTERNAL');
    const sent = `${error.details} ${JSON.stringify(error.metadata.toJSON())}`;
    expect(sent).not.toContain('secret');
    expect(sent).not.toContain('hunter2');
    expect(sent).not.toContain('10.0.0.5');
    const ref = refOf(error.details);
    expect(server?.log.find((line) => line.startsWith(method) && line.includes(`(ref ${ref})`))).toContain(SECRET);
  });

  // ---- fixtures -----------------------------------------------------------------------

  const SECRET = 'secret: password=hunter2 at 10.0.0.5:5432';

  /** Every call fails the way a driver does: a plain Error that names what it connected to. */
  const leakyStore: EventStore = {
    append: () => Promise.reject(new Error(SECRET)),
    readStream: () => Promise.reject(new Error(SECRET)),
    subscribe: async function* () {
      throw new Error(SECRET);
    },
    close: async () => {},
  };

  function appendRequest(): ReturnType<typeof eventAppend> {
    return eventAppend(newTenant(), 'acc-1', uuidv7());
  }
});

describePostgres('a server over PostgreSQL, on failures with the database\'s own words', (databaseUrl) => {
  const schema = freshSchemaName();
  let proxy: TcpProxy | undefined;
  let store: PostgresEventStore | undefined;
  let server: LoopbackServer | undefined;
  let plain: PlainClient | undefined;
  const client = (): PlainClient => plain ?? expect.fail('no client');
  beforeAll(async () => {
    const proxied = await proxyDatabase(databaseUrl);
    proxy = proxied.proxy;
    store = await PostgresEventStore.connect({ connectionString: proxied.connectionString, schema, connectTimeoutMs: 2_000 });
    server = await serveOnLoopback(store);
    plain = new PlainClient(server.address);
  });
  afterAll(async () => {
    plain?.close();
    await server?.stop();
    await store?.close();
    await proxy?.close();
    await dropSchema(databaseUrl, schema);
  });

  it('answers a duplicate event id with ALREADY_EXISTS in its own words, with nothing of the database in them', async () => {
    const tenantId = newTenant();
    const eventId = uuidv7();
    expect((await client().append(eventAppend(tenantId, 'acc-1', eventId))).ok).toBe(true);
    const error = failed(await client().append(eventAppend(tenantId, 'acc-2', eventId)));
    expect(status[error.code]).toBe('ALREADY_EXISTS');
    // Group commit finds the duplicate before inserting; only two servers racing with one
    // id meet the unique index, whose words then go to the log behind a ref.
    expect(error.details).toMatch(/^an event id of this batch is already stored for (the )?tenant/);
    for (const internal of ['Key (', 'events_event_id_key', 'tenant_id', '23505', eventId]) expect(error.details).not.toContain(internal);
  });

  it("answers UNAVAILABLE without the database's host and port while it cannot be reached", async () => {
    const tcp = proxy ?? expect.fail('no proxy');
    tcp.refuse(true);
    tcp.cut();
    try {
      const outcome = await client().readStream({ tenant_id: newTenant(), aggregate_id: 'acc-1', from_aggregate_nonce: '1', max_count: 0, forward: true });
      const error = failed(outcome);
      expect(status[error.code]).toBe('UNAVAILABLE');
      const port = tcp.address.split(':')[1] ?? expect.fail('no port');
      expect(error.details).not.toContain(port);
      expect(error.details).not.toContain('PostgreSQL');
      expect(server?.log.find((line) => line.includes(`(ref ${refOf(error.details)})`))).toContain(`PostgreSQL at 127.0.0.1:${port}`);
    } finally {
      tcp.refuse(false);
    }
  });
});

/** The short id a withheld failure's message ends with; the server's log line names it too. */
function refOf(details: string): string {
  const ref = /\(ref ([0-9a-f]{8})\)$/.exec(details)?.[1];
  if (ref === undefined) throw new Error(`no ref in "${details}"`);
  return ref;
}

function failed(outcome: Outcome): ServiceError {
  if (outcome.ok) throw new Error('expected the call to fail, and it succeeded');
  return outcome.error;
}

function eventAppend(tenantId: string, aggregateId: string, eventId: string) {
  const meta = { event_id: eventId, event_type: 'Noted', event_version: 1, content_type: 'application/json', aggregate_nonce: '1' };
  return {
    tenant_id: tenantId,
    aggregate_id: aggregateId,
    aggregate_type: 'BankAccount',
    expected_aggregate_nonce: '0',
    idempotency_key: '',
    events: [{ meta, payload: Buffer.from('{}') }],
  };
}

function subscriptionError(plain: PlainClient, request: object): Promise<ServiceError> {
  return new Promise((resolve, reject) => {
    const call = plain.subscribe(request);
    call.on('data', () => reject(new Error('expected the subscription to fail, and it sent a message')));
    call.on('error', (error: ServiceError) => resolve(error));
    call.on('end', () => reject(new Error('expected the subscription to fail, and it ended')));
  });
}
