// The tolerant reader: events the read models cannot decode are parked, not fatal, and are
// still reported after a resume; a read model that fails on an event stops alone, naming
// the event's position; a command on a stream holding such an event fails clearly.
import { describe, expect, it } from 'vitest';
import type { BankAccountCommand } from '../../src/domain/bank-account.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { getAccountSummary } from '../../src/read-side/account-summary/queries.ts';
import { restoreReadModel, snapshotOf } from '../../src/read-side/checkpoint.ts';
import type { ParkedEvent } from '../../src/read-side/parked-events.ts';
import { ReadModelStoppedError } from '../../src/read-side/projector.ts';
import { needReadModels } from '../../src/read-side/read-models.ts';
import { getTransactionHistory } from '../../src/read-side/transaction-history/queries.ts';
import { wireBank, wireReadSide } from '../../src/wire.ts';
import { UndecidableStreamError } from '../../src/write-side/command-handler.ts';
import { appendForeign, FOREIGN_REASONS } from '../support/foreign-events.ts';

describe('an event the read models cannot decode', () => {
  it('is parked: skipped by every read model, reported once with its position and why, and the log flows on', async () => {
    const store = new InMemoryEventStore();
    const parked: ParkedEvent[] = [];
    const bank = wireBank({ store, tenantId: TENANT, onParked: (event) => void parked.push(event) });
    try {
      await bank.handle(open('acc-1'));
      await appendForeign(store, { tenantId: TENANT, aggregateId: 'acc-9', expectedVersion: 0 });
      await bank.handle(deposit('acc-1', 'tx-1', 25_00));
      await bank.handle(open('acc-2'));
      const last = await bank.handle(deposit('acc-2', 'tx-2', 5_00));
      await bank.projector.waitFor(last.status === 'accepted' ? last.lastGlobalPosition : Number.MAX_SAFE_INTEGER);

      expect(getAccountSummary(bank.accountSummaries, { accountId: 'acc-1' })).toMatchObject({ balanceCents: 125_00, transactionCount: 1 });
      expect(getAccountSummary(bank.accountSummaries, { accountId: 'acc-2' })).toMatchObject({ balanceCents: 105_00 });
      expect(getAccountSummary(bank.accountSummaries, { accountId: 'acc-9' })).toBeUndefined();
      expect(getTransactionHistory(bank.transactionHistories, { accountId: 'acc-1' })).toHaveLength(1);
      expect(parked.map(({ position, eventType, reason }) => ({ position, eventType, reason }))).toEqual(FOREIGN_PARKED);
      expect(bank.projector.parked).toEqual(parked);
    } finally {
      await bank.stop();
    }
  });

  it('is still reported by a run resumed from a checkpoint past it, and not twice', async () => {
    const store = new InMemoryEventStore();
    const first = wireBank({ store, tenantId: TENANT });
    await first.handle(open('acc-1'));
    await appendForeign(store, { tenantId: TENANT, aggregateId: 'acc-9', expectedVersion: 0 });
    const opened = await first.handle(open('acc-2'));
    await first.projector.waitFor(opened.status === 'accepted' ? opened.lastGlobalPosition : Number.MAX_SAFE_INTEGER);
    await first.stop();
    const checkpoint = first.projector.checkpoint;
    if (checkpoint === undefined) throw new Error('no checkpoint');
    const saved = snapshotOf('accountSummaries', first.accountSummaries, checkpoint, first.projector.parked);
    const restored = JSON.parse(JSON.stringify(saved)) as typeof saved;

    const parked: ParkedEvent[] = [];
    const resumed = wireReadSide({ store, tenantId: TENANT, readModels: ['accountSummaries'], resume: { accountSummaries: restoreReadModel('accountSummaries', restored) }, onParked: (event) => void parked.push(event) });
    resumed.projector.start();
    await resumed.projector.caughtUp;
    await resumed.projector.stop();
    expect(resumed.projector.eventsApplied).toBe(0);
    expect(parked.map(({ position, eventType, reason }) => ({ position, eventType, reason }))).toEqual(FOREIGN_PARKED);
  });

  it('in an account’s own stream stops commands on that account with a clear error, not a crash', async () => {
    const store = new InMemoryEventStore();
    const bank = wireBank({ store, tenantId: TENANT, readModels: [] });
    await bank.handle(open('acc-1'));
    await appendForeign(store, { tenantId: TENANT, aggregateId: 'acc-1', expectedVersion: 1 });
    const fresh = wireBank({ store, tenantId: TENANT, readModels: [] });
    const refused = fresh.handle(deposit('acc-1', 'tx-1', 1_00));
    await expect(refused).rejects.toThrow(UndecidableStreamError);
    await expect(fresh.handle(deposit('acc-1', 'tx-1', 1_00))).rejects.toThrow(
      /^BankAccount acc-1 cannot be decided on, its event at version 2 cannot be read: event [0-9a-f-]{36} \(MoneyDeposited\) at position 2: payload is not JSON$/,
    );
  });
});

describe('a read model that fails on an event', () => {
  it('stops alone, with the event’s position and its name; the others keep up; queries on it are refused', async () => {
    const store = new InMemoryEventStore();
    const told: string[] = [];
    const bank = wireBank({ store, tenantId: TENANT, onReadModelStopped: (stopped) => void told.push(stopped.message) });
    try {
      const failing = bank.transactionHistories;
      const apply = failing.apply.bind(failing);
      failing.apply = (projected) => {
        if (projected.globalPosition === 2) throw new Error('broken on purpose');
        apply(projected);
      };
      await bank.handle(open('acc-1'));
      await bank.handle(deposit('acc-1', 'tx-1', 1_00));
      const last = await bank.handle(deposit('acc-1', 'tx-2', 2_00));
      await bank.projector.waitFor(last.status === 'accepted' ? last.lastGlobalPosition : Number.MAX_SAFE_INTEGER);

      expect(getAccountSummary(needReadModels(bank, 'accountSummaries').accountSummaries, { accountId: 'acc-1' })).toMatchObject({ balanceCents: 103_00 });
      expect(() => needReadModels(bank, 'transactionHistories')).toThrow(ReadModelStoppedError);
      expect(() => needReadModels(bank, 'accountSummaries', 'transactionHistories')).toThrow(
        'TransactionHistory stopped at the event at position 2 (MoneyDeposited in acc-1): broken on purpose',
      );
      expect(bank.transactionHistories.position).toBe(1);
      expect(told).toEqual(['TransactionHistory stopped at the event at position 2 (MoneyDeposited in acc-1): broken on purpose']);
    } finally {
      await bank.stop();
    }
  });
});

// ---- fixtures -------------------------------------------------------------------------

const TENANT = 'tenant-1';

/** Positions 2, 3 and 4 of the log: written by another client straight to the store. */
const FOREIGN_PARKED = FOREIGN_REASONS.map((reason, index) => ({ position: index + 2, eventType: ['MoneyDeposited', 'AccountRenamed', 'MoneyDeposited'][index], reason }));

function open(accountId: string): BankAccountCommand {
  return { type: 'OpenAccount', data: { accountId, customerId: 'c-1', accountType: 'Checking', initialBalanceCents: 100_00 } };
}

function deposit(accountId: string, transactionId: string, amountCents: number): BankAccountCommand {
  return { type: 'DepositMoney', data: { accountId, transactionId, amountCents, description: 'rent' } };
}
