// What a client learns when the store behind the server fails unexpectedly: INTERNAL and
// nothing more, since the message may hold passwords, hosts or SQL; the operator finds
// the detail in the server's log.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { v7 as uuidv7 } from 'uuid';
import type { EventStore } from '../../src/event-store/event-store.ts';
import { newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { PlainClient } from '../event-store/grpc/plain-client.ts';
import type { Outcome } from '../event-store/grpc/plain-client.ts';

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
    expect(server?.log.filter((line) => line.startsWith(method)).join('\n')).toContain(SECRET);
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

  function appendRequest() {
    const meta = { event_id: uuidv7(), event_type: 'Noted', event_version: 1, content_type: 'application/json', aggregate_nonce: '1' };
    return {
      tenant_id: newTenant(),
      aggregate_id: 'acc-1',
      aggregate_type: 'BankAccount',
      expected_aggregate_nonce: '0',
      idempotency_key: '',
      events: [{ meta, payload: Buffer.from('{}') }],
    };
  }

  function failed(outcome: Outcome): ServiceError {
    if (outcome.ok) throw new Error('expected the call to fail, and it succeeded');
    return outcome.error;
  }

  function subscriptionError(plain: PlainClient, request: object): Promise<ServiceError> {
    return new Promise((resolve, reject) => {
      const call = plain.subscribe(request);
      call.on('data', () => reject(new Error('expected the subscription to fail, and it sent a message')));
      call.on('error', (error: ServiceError) => resolve(error));
      call.on('end', () => reject(new Error('expected the subscription to fail, and it ended')));
    });
  }
});
