// Strict strings on the wire, on both backends: text that is not valid UTF-8 in any string
// field of any method is refused, never replaced (two tenants must never become one), and
// a header the server could not keep is refused, never dropped.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { v7 as uuidv7 } from 'uuid';
import type { EventStore } from '../../src/event-store/event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { asMessage, messageType, PlainClient } from '../event-store/grpc/plain-client.ts';
import { describePostgres, startPostgresStore } from '../support/postgres.ts';

describeStrictStrings('memory', async () => {
  const store = new InMemoryEventStore();
  return { store, stop: () => store.close() };
});

describePostgres('strict strings on PostgreSQL', (databaseUrl) => {
  describeStrictStrings('postgres', () => startPostgresStore(databaseUrl));
});

function describeStrictStrings(backend: string, start: () => Promise<{ store: EventStore; stop: () => Promise<void> }>): void {
  describe(`strict strings on the wire (${backend} backend)`, () => {
    let stopStore: (() => Promise<void>) | undefined;
    let server: LoopbackServer | undefined;
    let plain: PlainClient | undefined;
    const client = (): PlainClient => plain ?? expect.fail('no client');
    beforeAll(async () => {
      const started = await start();
      stopStore = started.stop;
      server = await serveOnLoopback(started.store);
      plain = new PlainClient(server.address);
    });
    afterAll(async () => {
      plain?.close();
      await server?.stop();
      await stopStore?.();
    });

    it('refuses tenants that differ only in invalid bytes, and stores nothing of either', async () => {
      const tenant = newTenant();
      for (const bad of [0xff, 0xfe]) {
        const bytes = withBadByte(encode('AppendRequest', appendRequest(`${tenant}-${MARK}`)), bad);
        expect(await client().raw(APPEND, bytes)).toMatchObject(refused(/tenant_id is not valid UTF-8/));
      }
      // What the decoder would have made of either one: nothing is there.
      const page = await client().readStream({ tenant_id: `${tenant}-X\uFFFDXX`, aggregate_id: 'acc-1', forward: true });
      expect(page.ok && asMessage(page.response).events).toEqual([]);
    });

    it.each([
      ['the aggregate id', (marked: string) => ({ ...appendRequest(newTenant()), aggregate_id: marked, events: [wireEvent({}, marked)] })],
      ['the idempotency key', (marked: string) => ({ ...appendRequest(newTenant()), idempotency_key: marked })],
      ['an event type', (marked: string) => ({ ...appendRequest(newTenant()), events: [wireEvent({ event_type: marked })] })],
      ['an actor id', (marked: string) => ({ ...appendRequest(newTenant()), events: [wireEvent({ actor_id: marked })] })],
      ['a header name', (marked: string) => ({ ...appendRequest(newTenant()), events: [wireEvent({ headers: { [marked]: 'v' } })] })],
      ['a header value', (marked: string) => ({ ...appendRequest(newTenant()), events: [wireEvent({ headers: { h: marked } })] })],
    ])('refuses an append with invalid UTF-8 in %s', async (_, request) => {
      const bytes = withBadByte(encode('AppendRequest', request(MARK)), 0xc3);
      expect(await client().raw(APPEND, bytes)).toMatchObject(refused(/not valid UTF-8/));
    });

    it('refuses invalid UTF-8 in a ReadStream and in a Subscribe', async () => {
      const read = withBadByte(encode('ReadStreamRequest', { tenant_id: newTenant(), aggregate_id: MARK, forward: true }), 0x80);
      expect(await client().raw('/eventstore.v1.EventStore/ReadStream', read)).toMatchObject(refused(/aggregate_id is not valid UTF-8/));

      const subscribe = withBadByte(encode('SubscribeRequest', { tenant_id: newTenant(), aggregate_id_prefix: MARK }), 0xed);
      const call = client().client.makeServerStreamRequest('/eventstore.v1.EventStore/Subscribe', (b: Buffer) => b, (b: Buffer) => b, subscribe);
      const error = await new Promise<{ code?: number; details?: string }>((resolve) => {
        call.on('data', () => resolve({}));
        call.on('error', resolve);
      });
      call.cancel();
      expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/aggregate_id_prefix is not valid UTF-8/) });
    });

    it('refuses a header named __proto__ rather than dropping it', async () => {
      const headers = JSON.parse('{"__proto__":"x","ok":"y"}') as Record<string, string>;
      const outcome = await client().append({ ...appendRequest(newTenant()), events: [wireEvent({ headers })] });
      expect(outcome).toMatchObject(refused(/__proto__/));
    });

    it('keeps valid text exactly, the replacement character itself included', async () => {
      const tenant_id = `${newTenant()}-Zürich-€-😀-\uFFFD`;
      const headers = { 'naïve-名前': 'wert ✓', constructor: 'c', toString: 't' };
      const appended = await client().append({ ...appendRequest(tenant_id), events: [wireEvent({ headers, actor_id: 'ünïcødé' })] });
      expect(appended.ok).toBe(true);
      const page = await client().readStream({ tenant_id, aggregate_id: 'acc-1', forward: true });
      const [event] = page.ok ? (page.response.events as Array<{ meta: Record<string, unknown> }>) : [];
      expect(event?.meta).toMatchObject({ tenant_id, headers, actor_id: 'ünïcødé' });
    });
  });
}

const APPEND = '/eventstore.v1.EventStore/Append';
/** Marked text whose second byte the tests turn into an invalid one. */
const MARK = 'XYXX';

function encode(type: string, message: object): Buffer {
  return Buffer.from(messageType(`eventstore.v1.${type}`).serialize(message));
}

/** The encoded message with the `Y` of every MARK replaced by `byte`, the length kept. */
function withBadByte(bytes: Buffer, byte: number): Buffer {
  const copy = Buffer.from(bytes);
  let at = copy.indexOf(MARK);
  if (at === -1) throw new Error('the mark is not in the message');
  while (at !== -1) {
    copy[at + 1] = byte;
    at = copy.indexOf(MARK, at + 1);
  }
  return copy;
}

function refused(details: RegExp): object {
  return { ok: false, error: { code: status.INVALID_ARGUMENT, details: expect.stringMatching(details) } };
}

function appendRequest(tenant_id: string) {
  return { tenant_id, aggregate_id: 'acc-1', aggregate_type: 'BankAccount', expected_aggregate_nonce: '0', idempotency_key: '', events: [wireEvent()] };
}

function wireEvent(meta: Record<string, unknown> = {}, aggregateId = '') {
  const required = { event_id: uuidv7(), event_type: 'Noted', event_version: 1, content_type: 'application/json', aggregate_id: aggregateId };
  return { meta: { ...required, aggregate_nonce: '1', ...meta }, payload: Buffer.from('{}') };
}
