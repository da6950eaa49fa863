// The tokens drill: a server with a tokens file, called on every method, in tenants its
// tokens cover and tenants they do not, with each kind of wrong token. Every wrong one is
// refused with the code the protocol names, the right ones are served, and the log holds
// exactly what the accepted appends wrote.

import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { MissingTenantError, PermissionDeniedError, UnauthenticatedError } from '../../src/event-store/errors.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { AccessControl, parseTokensFile } from '../../src/server/tokens.ts';
import { account, newEvent, newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import { until } from '../support/until.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { PlainClient } from '../event-store/grpc/plain-client.ts';

const TENANT_A = newTenant();
const TENANT_B = newTenant();
const TOKEN_A = `token-a-${uuidv7()}`;
const TOKEN_ADMIN = `token-admin-${uuidv7()}`;

type Method = 'Append' | 'ReadStream' | 'Subscribe';
const METHODS: readonly Method[] = ['Append', 'ReadStream', 'Subscribe'];

/** Each kind of wrong token, with the code it must get in a tenant it would otherwise reach. */
const WRONG: ReadonlyArray<[string, string | undefined, string, 'UNAUTHENTICATED' | 'PERMISSION_DENIED']> = [
  ['no token', undefined, TENANT_A, 'UNAUTHENTICATED'],
  ['an unknown token', `Bearer token-x-${uuidv7()}`, TENANT_A, 'UNAUTHENTICATED'],
  ['a known token with a character less', `Bearer ${TOKEN_A.slice(0, -1)}`, TENANT_A, 'UNAUTHENTICATED'],
  ['another scheme', `Basic ${TOKEN_A}`, TENANT_A, 'UNAUTHENTICATED'],
  ['the bare token without a scheme', TOKEN_A, TENANT_A, 'UNAUTHENTICATED'],
  ["a token of another tenant", `Bearer ${TOKEN_A}`, TENANT_B, 'PERMISSION_DENIED'],
  ["a token of another tenant, in a tenant nobody has", `Bearer ${TOKEN_A}`, newTenant(), 'PERMISSION_DENIED'],
];

describe('a server with a tokens file', () => {
  const memory = new InMemoryEventStore();
  let server: LoopbackServer | undefined;
  const address = (): string => server?.address ?? expect.fail('no server');
  beforeAll(async () => {
    const access = new AccessControl(parseTokensFile(`${TOKEN_A} ${TENANT_A}\n${TOKEN_ADMIN} *\n`, 'tokens'));
    server = await serveOnLoopback(memory, { access });
  });
  afterAll(async () => {
    await server?.stop();
    await memory.close();
  });

  describe.each(METHODS)('%s', (method) => {
    it.each(WRONG)('refuses %s', async (_, authorization, tenantId, code) => {
      const plain = new PlainClient(address(), authorization === undefined ? {} : { authorization });
      try {
        const outcome = await call(plain, method, tenantId, 'refused');
        expect(outcome).toMatchObject({ code: status[code] });
      } finally {
        plain.close();
      }
    });

    it.each<[string, string, string]>([
      ['the tenant its token covers', TOKEN_A, TENANT_A],
      ['any tenant with a `*` token', TOKEN_ADMIN, TENANT_B],
    ])('serves %s', async (_, token, tenantId) => {
      const plain = new PlainClient(address(), { authorization: `Bearer ${token}` });
      try {
        expect(await call(plain, method, tenantId, 'accepted')).toBe('served');
      } finally {
        plain.close();
      }
    });
  });

  it('stored exactly what the accepted appends wrote, and nothing of the refused ones', async () => {
    const stored = async (tenantId: string): Promise<string[]> =>
      (await readWholeStream(memory, { tenantId, aggregateId: 'acc-refused' })).map((event) => event.eventType);
    expect(await stored(TENANT_A)).toEqual([]);
    expect(await stored(TENANT_B)).toEqual([]);
    const accepted = async (tenantId: string): Promise<number> => (await readWholeStream(memory, { tenantId, aggregateId: 'acc-accepted' })).length;
    expect(await accepted(TENANT_A)).toBe(1);
    expect(await accepted(TENANT_B)).toBe(1);
  });

  it('never writes a token to its log', () => {
    expect(server?.log.join('\n')).toContain('UNAUTHENTICATED');
    for (const token of [TOKEN_A, TOKEN_A.slice(0, -1), TOKEN_ADMIN]) expect(server?.log.join('\n')).not.toContain(token);
  });

  it("gives our client typed errors: unauthenticated, permission denied, and an empty tenant still the protocol's own", async () => {
    const wrong = await GrpcEventStore.connect({ address: address(), token: `token-x-${uuidv7()}` });
    const right = await GrpcEventStore.connect({ address: address(), token: TOKEN_A });
    try {
      const read = { aggregateId: 'acc-1', fromVersion: 0, maxCount: 0, direction: 'forward' } as const;
      await expect(wrong.readStream({ ...read, tenantId: TENANT_A })).rejects.toThrow(UnauthenticatedError);
      await expect(wrong.readStream({ ...read, tenantId: TENANT_A })).rejects.toThrow(`the event store at ${address()} refused the call: the token is not known`);
      await expect(right.readStream({ ...read, tenantId: TENANT_B })).rejects.toThrow(PermissionDeniedError);
      await expect(right.readStream({ ...read, tenantId: '' })).rejects.toThrow(MissingTenantError);
      const subscription = right.subscribe({ tenantId: TENANT_B, fromPosition: 0 })[Symbol.asyncIterator]();
      await expect(subscription.next()).rejects.toThrow(PermissionDeniedError);
      expect(await right.append({ tenantId: TENANT_A, stream: account('acc-client'), expectedVersion: 0, events: [newEvent()] })).toMatchObject({ lastVersion: 1 });
    } finally {
      await wrong.close();
      await right.close();
    }
  });

  it('refuses to connect with a token that a header cannot carry, without repeating it', async () => {
    const secret = `s3cret-${uuidv7()}`;
    for (const token of [`${secret}\u0007`, `${secret} more`]) {
      const connecting = GrpcEventStore.connect({ address: address(), token });
      await expect(connecting).rejects.toThrow('the token must be visible ASCII characters');
      await expect(connecting).rejects.not.toThrow(secret);
    }
  });
});

/** One call of `method` in `tenantId`: 'served', or the status it failed with. */
async function call(plain: PlainClient, method: Method, tenantId: string, kind: 'refused' | 'accepted'): Promise<'served' | { code: number; details: string }> {
  const failed = (error: ServiceError) => ({ code: error.code, details: error.details });
  const aggregateId = kind === 'refused' ? 'acc-refused' : 'acc-accepted';
  switch (method) {
    case 'Append': {
      // Accepted appends start a stream of their own, once in each tenant.
      const outcome = await plain.append(appendRequest(tenantId, aggregateId));
      return outcome.ok ? 'served' : failed(outcome.error);
    }
    case 'ReadStream': {
      const outcome = await plain.readStream({ tenant_id: tenantId, aggregate_id: aggregateId, from_aggregate_nonce: '0', max_count: 0, forward: true });
      return outcome.ok ? 'served' : failed(outcome.error);
    }
    case 'Subscribe':
      return new Promise((resolve) => {
        const subscription = plain.subscribe({ tenant_id: tenantId, from_global_nonce: '0' });
        subscription.once('data', () => {
          subscription.cancel();
          resolve('served');
        });
        subscription.on('error', (error: ServiceError) => resolve(error.code === status.CANCELLED ? 'served' : failed(error)));
        subscription.on('end', () => resolve({ code: status.OK, details: 'ended without a message' }));
      });
    default:
      throw new Error(`no method ${String(method)}`);
  }
}

function appendRequest(tenantId: string, aggregateId: string) {
  const meta = { event_id: uuidv7(), event_type: 'Noted', event_version: 1, content_type: 'application/json', aggregate_nonce: '1' };
  return { tenant_id: tenantId, aggregate_id: aggregateId, aggregate_type: 'BankAccount', expected_aggregate_nonce: '0', idempotency_key: '', events: [{ meta, payload: Buffer.from('{}') }] };
}

describe('open subscriptions when the tokens are replaced (SIGHUP)', () => {
  const tenantA = newTenant();
  const tenantB = newTenant();
  const revoked = `revoked-${uuidv7()}`;
  const narrowed = `narrowed-${uuidv7()}`;
  const kept = `kept-${uuidv7()}`;
  const admin = `admin-${uuidv7()}`;
  const memory = new InMemoryEventStore();
  const access = new AccessControl(parseTokensFile(`${revoked} ${tenantA}\n${narrowed} ${tenantA},${tenantB}\n${kept} ${tenantA}\n${admin} *\n`, 'tokens'));
  let server: LoopbackServer | undefined;
  beforeAll(async () => {
    server = await serveOnLoopback(memory, { access });
  });
  afterAll(async () => {
    await server?.stop();
    await memory.close();
  });

  it('end as a new call would be refused, while one whose token still covers its tenant goes on', async () => {
    const address = server?.address ?? expect.fail('no server');
    const follow = (token: string) => {
      const plain = new PlainClient(address, { authorization: `Bearer ${token}` });
      const follower = { plain, messages: 0, error: undefined as ServiceError | undefined };
      const subscription = plain.subscribe({ tenant_id: tenantA, from_global_nonce: '0' });
      subscription.on('data', () => (follower.messages += 1));
      subscription.on('error', (error: ServiceError) => (follower.error = error));
      return follower;
    };
    const [gone, narrower, still] = [follow(revoked), follow(narrowed), follow(kept)];
    const followers = [gone, narrower, still];
    const writer = await GrpcEventStore.connect({ address, token: admin });
    try {
      // The first message of an empty tenant says caught-up: each subscription is open.
      await until(() => followers.every((follower) => follower.messages === 1), 'every subscription to catch up');
      access.replace(parseTokensFile(`${narrowed} ${tenantB}\n${kept} ${tenantA}\n${admin} *\n`, 'tokens'));
      await until(() => gone.error !== undefined && narrower.error !== undefined, 'the revoked and the narrowed subscriptions to end');
      expect(gone.error).toMatchObject({ code: status.UNAUTHENTICATED, details: 'the token is not known to this event store' });
      expect(narrower.error).toMatchObject({ code: status.PERMISSION_DENIED, details: `the token does not cover tenant "${tenantA}"` });

      await writer.append({ tenantId: tenantA, stream: account('acc-after-reload'), expectedVersion: 0, events: [newEvent()] });
      await until(() => still.messages === 2, 'the event to reach the subscription whose token still covers the tenant');
      expect(still.error).toBeUndefined();
      expect([gone.messages, narrower.messages]).toEqual([1, 1]);
    } finally {
      for (const follower of followers) follower.plain.close();
      await writer.close();
    }
  });
});
