// The server seen through a bare proto-loader client, as any SDK of `eventstore.v1` sees
// it: the fields it stores and returns, and the status code of every rule of the spec.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import type { Metadata } from '@grpc/grpc-js';
import { v7 as uuidv7 } from 'uuid';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { asMessage, messageType, PlainClient } from '../event-store/grpc/plain-client.ts';
import type { Message, Outcome } from '../event-store/grpc/plain-client.ts';

describe('eventstore.v1 on the wire: Append and ReadStream', () => {
  const backend = new InMemoryEventStore();
  let server: LoopbackServer | undefined;
  let plain: PlainClient | undefined;
  const client = (): PlainClient => plain ?? expect.fail('no client');
  beforeAll(async () => {
    server = await serveOnLoopback(backend);
    plain = new PlainClient(server.address);
  });
  afterAll(async () => {
    plain?.close();
    await server?.stop();
    await backend.close();
  });

  it('stores every metadata field, fills what the request implies and sets the server fields', async () => {
    const tenant_id = newTenant();
    const full = wireEvent(1, {
      event_version: 3,
      content_schema: 'bank/deposited',
      correlation_id: 'corr',
      causation_id: 'cause',
      actor_id: 'teller',
      timestamp_unix_ms: '1700000000123',
      payload_sha256: Buffer.from([9, 9]),
      headers: { channel: 'branch' },
    });
    const bare = wireEvent(2, { content_type: '' });
    const appended = ok(await client().append({ ...appendRequest(tenant_id), events: [full, bare] }));
    expect(appended).toEqual({ last_aggregate_nonce: '2', last_global_nonce: expect.stringMatching(/^\d+$/) });

    const page = ok(await client().readStream({ tenant_id, aggregate_id: 'acc-1', from_aggregate_nonce: '1', max_count: 0, forward: true }));
    expect(page).toMatchObject({ is_end: true, next_from_aggregate_nonce: '3' });
    const [first, second] = eventsOf(page);
    expect(first?.meta).toEqual({
      ...asMessage(full.meta),
      aggregate_id: 'acc-1',
      aggregate_type: 'BankAccount',
      tenant_id,
      recorded_time_unix_ms: expect.stringMatching(/^\d{13}$/),
      global_nonce: String(Number(appended.last_global_nonce) - 1),
    });
    expect(first?.payload).toEqual(Buffer.from('{"n":1}'));
    expect(second?.meta).toMatchObject({ content_type: 'application/octet-stream', global_nonce: appended.last_global_nonce });
  });

  it.each([
    ['an empty tenant', (r: Request) => ({ ...r, tenant_id: '' }), status.UNAUTHENTICATED],
    ['an empty aggregate id', (r: Request) => ({ ...r, aggregate_id: '' }), status.INVALID_ARGUMENT],
    ['an empty aggregate type', (r: Request) => ({ ...r, aggregate_type: '' }), status.INVALID_ARGUMENT],
    ['no events', (r: Request) => ({ ...r, events: [] }), status.INVALID_ARGUMENT],
    ['an event without meta', (r: Request) => ({ ...r, events: [{ payload: Buffer.from('{}') }] }), status.INVALID_ARGUMENT],
    ['an empty event id', (r: Request) => ({ ...r, events: [wireEvent(1, { event_id: '' })] }), status.INVALID_ARGUMENT],
    ['an empty event type', (r: Request) => ({ ...r, events: [wireEvent(1, { event_type: '' })] }), status.INVALID_ARGUMENT],
    ['meta naming another aggregate', (r: Request) => ({ ...r, events: [wireEvent(1, { aggregate_id: 'acc-2' })] }), status.INVALID_ARGUMENT],
    ['meta naming another aggregate type', (r: Request) => ({ ...r, events: [wireEvent(1, { aggregate_type: 'Loan' })] }), status.INVALID_ARGUMENT],
    ['meta naming another tenant', (r: Request) => ({ ...r, events: [wireEvent(1, { tenant_id: 'someone-else' })] }), status.PERMISSION_DENIED],
    ['nonces that skip', (r: Request) => ({ ...r, events: [wireEvent(1), wireEvent(3)] }), status.INVALID_ARGUMENT],
    ['nonces left at 0', (r: Request) => ({ ...r, events: [wireEvent(0)] }), status.INVALID_ARGUMENT],
    ['an expected nonce past 2^53', (r: Request) => ({ ...r, expected_aggregate_nonce: '18446744073709551615' }), status.INVALID_ARGUMENT],
    ['more events than an append may hold', (r: Request) => ({ ...r, events: manyEvents(1001) }), status.RESOURCE_EXHAUSTED],
    ['a payload past the store limit', (r: Request) => ({ ...r, events: [{ ...wireEvent(1), payload: Buffer.alloc(1024 * 1024 + 1) }] }), status.RESOURCE_EXHAUSTED],
    ['a message past gRPC\'s size limit', (r: Request) => ({ ...r, events: [{ ...wireEvent(1), payload: Buffer.alloc(5 * 1024 * 1024) }] }), status.RESOURCE_EXHAUSTED],
  ])('refuses an append with %s', async (_, change, code) => {
    const tenant_id = newTenant();
    expect(codeOf(await client().append(change(appendRequest(tenant_id))))).toBe(status[code]);
    const page = ok(await client().readStream({ tenant_id, aggregate_id: 'acc-1', forward: true }));
    expect(eventsOf(page)).toEqual([]);
  });

  it('answers a stale expected nonce with ABORTED and the actual head in ConcurrencyErrorDetail', async () => {
    const tenant_id = newTenant();
    const first = ok(await client().append({ ...appendRequest(tenant_id), events: [wireEvent(1), wireEvent(2)] }));
    const refused = failed(await client().append(appendRequest(tenant_id)));
    expect(status[refused.code]).toBe('ABORTED');
    expect(concurrencyDetail(refused.metadata)).toEqual({
      tenant_id,
      aggregate_id: 'acc-1',
      actual_last_aggregate_nonce: '2',
      actual_last_global_nonce: first.last_global_nonce,
    });
  });

  it('replays a retried batch under its idempotency key and refuses another batch under it', async () => {
    const tenant_id = newTenant();
    const batch = { ...appendRequest(tenant_id), idempotency_key: 'open-acc-1' };
    const first = ok(await client().append(batch));
    ok(await client().append({ ...appendRequest(tenant_id), expected_aggregate_nonce: '1', events: [wireEvent(2)] }));
    expect(ok(await client().append(batch))).toEqual(first);
    const other = { ...appendRequest(tenant_id), idempotency_key: 'open-acc-1', expected_aggregate_nonce: '2', events: [wireEvent(3)] };
    expect(codeOf(await client().append(other))).toBe('ALREADY_EXISTS');
  });

  it('refuses an event id already stored for the tenant with ALREADY_EXISTS', async () => {
    const tenant_id = newTenant();
    const event = wireEvent(1);
    ok(await client().append({ ...appendRequest(tenant_id), events: [event] }));
    const again = { ...appendRequest(tenant_id), aggregate_id: 'acc-2', events: [{ ...event, meta: { ...event.meta, aggregate_id: '' } }] };
    expect(codeOf(await client().append(again))).toBe('ALREADY_EXISTS');
  });

  it('refuses reads without a tenant or aggregate id, and answers an unknown stream with an empty last page', async () => {
    expect(codeOf(await client().readStream({ tenant_id: '', aggregate_id: 'acc-1' }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await client().readStream({ tenant_id: newTenant(), aggregate_id: '' }))).toBe('INVALID_ARGUMENT');
    const page = ok(await client().readStream({ tenant_id: newTenant(), aggregate_id: 'nobody', forward: false }));
    expect(page).toMatchObject({ events: [], is_end: true });
  });

  it('answers bytes that are no request with INVALID_ARGUMENT and keeps serving', async () => {
    // Field 1 as a varint whose bytes end mid-number: no protobuf decoder can read it.
    const garbage = Buffer.from([0x08, 0xff]);
    for (const method of ['Append', 'ReadStream']) {
      const refused = failed(await client().raw(`/eventstore.v1.EventStore/${method}`, garbage));
      expect(refused).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/could not be decoded/) });
    }
    ok(await client().append(appendRequest(newTenant())));
  });

  it('logs one line for each failed call', async () => {
    const before = server?.log.length ?? 0;
    await client().readStream({ tenant_id: '', aggregate_id: 'acc-1' });
    expect(server?.log.slice(before)).toEqual([expect.stringMatching(/^ReadStream failed: UNAUTHENTICATED/)]);
  });
});

// ---- fixtures -------------------------------------------------------------------------

type Request = ReturnType<typeof appendRequest>;

function appendRequest(tenant_id: string) {
  return { tenant_id, aggregate_id: 'acc-1', aggregate_type: 'BankAccount', expected_aggregate_nonce: '0', idempotency_key: '', events: [wireEvent(1)] };
}

/** An event as a client of the protocol sends it: aggregate and tenant left to the request. */
function wireEvent(nonce: number, meta: Message = {}) {
  const required = { event_id: uuidv7(), event_type: 'Noted', event_version: 1, content_type: 'application/json' };
  return { meta: { ...required, aggregate_nonce: String(nonce), ...meta }, payload: Buffer.from(`{"n":${nonce}}`) };
}

function manyEvents(count: number) {
  return Array.from({ length: count }, (_, index) => wireEvent(index + 1));
}

function ok(outcome: Outcome): Message {
  if (!outcome.ok) throw new Error(`expected success, got ${status[outcome.error.code]}: ${outcome.error.details}`);
  return outcome.response;
}

function failed(outcome: Outcome): { code: number; details: string; metadata: Metadata } {
  if (outcome.ok) throw new Error('expected the call to fail, and it succeeded');
  return outcome.error;
}

function codeOf(outcome: Outcome): string {
  return outcome.ok ? 'OK' : (status[outcome.error.code] ?? String(outcome.error.code));
}

function eventsOf(page: Message): Message[] {
  return Array.isArray(page.events) ? page.events.map(asMessage) : [];
}

/** Decoded by hand from the standard richer error model, as any client of the protocol would. */
function concurrencyDetail(metadata: Metadata): Message {
  const [bytes] = metadata.get('grpc-status-details-bin');
  if (!(bytes instanceof Buffer)) throw new Error('no grpc-status-details-bin');
  const rpcStatus = asMessage(messageType('google.rpc.Status').deserialize(bytes));
  expect(rpcStatus.code).toBe(status.ABORTED);
  const [detail] = Array.isArray(rpcStatus.details) ? rpcStatus.details.map(asMessage) : [];
  expect(detail?.type_url).toBe('type.googleapis.com/eventstore.v1.ConcurrencyErrorDetail');
  if (!(detail?.value instanceof Buffer)) throw new Error('the detail holds no bytes');
  return asMessage(messageType('eventstore.v1.ConcurrencyErrorDetail').deserialize(detail.value));
}
