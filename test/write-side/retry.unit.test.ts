// Commands safe to retry: a command sent again under its own id is recorded once and answered
// "already recorded", even after its stream moved on or from a stale state cache; another
// command under the same id is refused, never taken for a retry; nothing is appended twice.
import { describe, expect, it } from 'vitest';
import { v5, validate, version } from 'uuid';
import type { BankAccountCommand } from '../../src/domain/bank-account.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import type { EventStore } from '../../src/event-store/event-store.ts';
import { ConcurrencyError } from '../../src/event-store/errors.ts';
import { wireBank } from '../../src/wire.ts';
import type { Bank, PartialReadSide } from '../../src/wire.ts';
import { CommandIdReusedError } from '../../src/write-side/command-handler.ts';
import { EVENT_ID_NAMESPACE, eventIdFor } from '../../src/write-side/command-ids.ts';

describe('a command sent again', () => {
  it('is recorded once: the second answer is "already recorded", with the first events and position', async () => {
    const { bank, store } = opened();
    await bank.handle(OPENING);
    const first = await bank.handle(deposit('tx-1', 25_00));
    const again = await bank.handle(deposit('tx-1', 25_00));
    expect(first).toMatchObject({ status: 'accepted', lastVersion: 2 });
    expect(again).toMatchObject({ status: 'already-recorded', lastVersion: 2, lastGlobalPosition: first.status === 'accepted' ? first.lastGlobalPosition : -1 });
    expect(again.status === 'already-recorded' ? again.events : []).toEqual(first.status === 'accepted' ? first.events : ['none']);
    expect(await types(store)).toEqual(['AccountOpened', 'MoneyDeposited']);
  });

  it('is recognised after the stream moved on, by a process that never saw it (no cache)', async () => {
    const { store } = opened();
    const teller = wireBank({ store, tenantId: TENANT, readModels: [], stateCacheSize: 0 });
    await teller.handle(OPENING);
    await teller.handle(deposit('tx-1', 25_00));
    await teller.handle(deposit('tx-2', 5_00));
    const later = wireBank({ store, tenantId: TENANT, readModels: [] });
    expect(await later.handle(deposit('tx-1', 25_00))).toMatchObject({ status: 'already-recorded', lastVersion: 2 });
    expect(await types(store)).toEqual(['AccountOpened', 'MoneyDeposited', 'MoneyDeposited']);
  });

  it.each([
    ['the store checks the key first, as the protocol says', (store: InMemoryEventStore): EventStore => store],
    ['a store that checked the version first', versionCheckedFirst],
  ])('is recognised by a writer whose remembered state is stale: %s', async (_, storeOf) => {
    const { store } = opened();
    const other = wireBank({ store: storeOf(store), tenantId: TENANT, readModels: [] });
    const one = wireBank({ store: storeOf(store), tenantId: TENANT, readModels: [] });
    await other.handle(OPENING); // `other` now remembers the account at version 1
    await one.handle(deposit('tx-0', 1_00)); // version 2
    await one.handle(deposit('tx-1', 25_00)); // version 3, decided on a balance `other` never saw
    await one.handle(deposit('tx-2', 5_00)); // version 4
    expect(await other.handle(deposit('tx-1', 25_00))).toMatchObject({ status: 'already-recorded', lastVersion: 3 });
    expect(await other.handle(withdraw('tx-3', 1_00))).toMatchObject({ status: 'accepted', expectedVersion: 4 });
    expect((await types(store)).length).toBe(5);
  });

  it('is "already recorded", not refused, when the rules would refuse it now: the money is spent', async () => {
    const { bank, store } = opened();
    await bank.handle(OPENING_WITH(30_00));
    await bank.handle(withdraw('tx-1', 30_00));
    expect(await bank.handle(withdraw('tx-1', 30_00))).toMatchObject({ status: 'already-recorded', lastVersion: 2 });
    const fresh = wireBank({ store, tenantId: TENANT, readModels: [] });
    expect(await fresh.handle(withdraw('tx-1', 30_00))).toMatchObject({ status: 'already-recorded', lastVersion: 2 });
    expect(await fresh.handle(withdraw('tx-2', 30_00))).toMatchObject({ status: 'rejected', rejection: { code: 'InsufficientFunds' } });
  });

  it('opens once: the same opening again is already recorded, another under the account id is refused by the rules', async () => {
    const { bank, store } = opened();
    await bank.handle(OPENING);
    expect(await bank.handle(OPENING)).toMatchObject({ status: 'already-recorded', lastVersion: 1 });
    expect(await bank.handle(OPENING_WITH(1_00))).toMatchObject({ status: 'rejected', rejection: { code: 'AccountAlreadyExists' } });
    expect(await types(store)).toEqual(['AccountOpened']);
  });
});

describe('another command under a used id', () => {
  it('is refused, whether another amount, another kind, or sent after the stream moved on', async () => {
    const { bank, store } = opened();
    await bank.handle(OPENING);
    await bank.handle(deposit('tx-1', 25_00));
    await expect(bank.handle(deposit('tx-1', 26_00))).rejects.toThrow(CommandIdReusedError);
    await expect(bank.handle(withdraw('tx-1', 25_00))).rejects.toThrow('command id tx-1 was used before by MoneyDeposited at version 2 of acc-1');
    await bank.handle(deposit('tx-2', 1_00));
    const fresh = wireBank({ store, tenantId: TENANT, readModels: [] });
    await expect(fresh.handle(deposit('tx-1', 26_00))).rejects.toThrow(CommandIdReusedError);
    expect(await types(store)).toEqual(['AccountOpened', 'MoneyDeposited', 'MoneyDeposited']);
  });

  it('is refused on another account too: the event ids derived from the id are taken', async () => {
    const { bank, store } = opened();
    await bank.handle(OPENING);
    await bank.handle({ type: 'OpenAccount', data: { accountId: 'acc-2', customerId: 'c-1', accountType: 'Checking', initialBalanceCents: 0 } });
    await bank.handle(deposit('tx-1', 25_00));
    const elsewhere = bank.handle({ type: 'DepositMoney', data: { accountId: 'acc-2', transactionId: 'tx-1', amountCents: 25_00, description: 'rent' } });
    await expect(elsewhere).rejects.toThrow('command id tx-1 was used before by a command on another stream');
    expect(await readWholeStream(store, { tenantId: TENANT, aggregateId: 'acc-2' })).toHaveLength(1);
  });
});

describe('event ids derived from the command id', () => {
  it('are valid UUIDs (version 5), the same for the same id and index, different otherwise', () => {
    const id = eventIdFor('tx-1', 0);
    expect(validate(id) && version(id)).toBe(5);
    expect(eventIdFor('tx-1', 0)).toBe(id);
    expect(new Set([id, eventIdFor('tx-1', 1), eventIdFor('tx-2', 0), eventIdFor('1:tx', 0)]).size).toBe(4);
  });
  it('are the UUIDv5 of RFC 9562, as the uuid package makes them', () => {
    for (const [commandId, index] of [['tx-1', 0], ['ü-naïve €', 3], ['0192f3a4-0000-7000-8000-000000000000', 12]] as const) {
      expect(eventIdFor(commandId, index)).toBe(v5(`${index}:${commandId}`, EVENT_ID_NAMESPACE));
    }
  });
});

// ---- fixtures -------------------------------------------------------------------------

const TENANT = 'tenant-1';
const ACCOUNT = 'acc-1';

const OPENING_WITH = (initialBalanceCents: number): BankAccountCommand => ({
  type: 'OpenAccount',
  data: { accountId: ACCOUNT, customerId: 'c-1', accountType: 'Checking', initialBalanceCents },
});
const OPENING = OPENING_WITH(0);

function opened(): { bank: Bank<PartialReadSide>; store: InMemoryEventStore } {
  const store = new InMemoryEventStore();
  return { bank: wireBank({ store, tenantId: TENANT, readModels: [] }), store };
}

function deposit(transactionId: string, amountCents: number): BankAccountCommand {
  return { type: 'DepositMoney', data: { accountId: ACCOUNT, transactionId, amountCents, description: 'rent' } };
}

function withdraw(transactionId: string, amountCents: number): BankAccountCommand {
  return { type: 'WithdrawMoney', data: { accountId: ACCOUNT, transactionId, amountCents, description: 'rent' } };
}

async function types(store: InMemoryEventStore): Promise<string[]> {
  return (await readWholeStream(store, { tenantId: TENANT, aggregateId: ACCOUNT })).map((event) => event.eventType);
}

/** The same store, but refusing a wrong expected version before it looks at the idempotency key. */
function versionCheckedFirst(store: InMemoryEventStore): EventStore {
  return {
    append: async (request) => {
      const head = await store.readStream({ tenantId: request.tenantId, aggregateId: request.stream.aggregateId, fromVersion: 0, maxCount: 1, direction: 'backward' });
      const actual = head.events[0];
      if ((actual?.version ?? 0) !== request.expectedVersion) {
        const detail = { tenantId: request.tenantId, aggregateId: request.stream.aggregateId, actualVersion: actual?.version ?? 0, actualGlobalPosition: actual?.globalPosition ?? 0 };
        throw new ConcurrencyError(detail);
      }
      return store.append(request);
    },
    readStream: (request) => store.readStream(request),
    subscribe: (request) => store.subscribe(request),
    close: () => store.close(),
  };
}
