// The read side: what the read models hold after a run of commands, that a rebuild from
// the start of the log gives the same answer, and how a reader waits for its own writes.
import { describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { BankAccountCommand } from '../../src/domain/bank-account.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { getAccountsByCustomer, getAccountSummary } from '../../src/read-side/account-summary/queries.ts';
import { getTransactionHistory } from '../../src/read-side/transaction-history/queries.ts';
import { ProjectionTimeoutError, ProjectorStoppedError } from '../../src/read-side/projector.ts';
import { StoreUnavailableError } from '../../src/event-store/errors.ts';
import { wireBank, wireReadSide } from '../../src/wire.ts';
import { withDyingSubscriptions } from '../support/stores.ts';
import type { Bank, ReadSide } from '../../src/wire.ts';

describe('the read models', () => {
  it('summarise each account and list its transactions with the balance after each', async () => {
    await withBank(async (bank) => {
      const last = await runAll(bank, scenario());
      await bank.projector.waitFor(last);
      expectScenarioReadModels(bank);
      expect(getAccountsByCustomer(bank.accountSummaries, { customerId: 'nobody' })).toEqual([]);
      expect(bank.accountSummaries.position).toBe(last);
      expect(bank.transactionHistories.position).toBe(last);
    });
  });

  it('dates the opening and the last activity from the store’s commit times', async () => {
    await withBank(async (bank) => {
      const last = await runAll(bank, scenario());
      await bank.projector.waitFor(last);
      const summary = getAccountSummary(bank.accountSummaries, { accountId: 'checking' })!;
      expect(summary.openedAt).toBe(new Date(0).toISOString());
      expect(summary.lastActivity).toBe(new Date(3_000).toISOString());
    });
  });

  it('come out right, and the same as the live ones, when rebuilt from position 0', async () => {
    await withBank(async (bank, store) => {
      const last = await runAll(bank, scenario());
      await bank.projector.waitFor(last);

      const rebuilt = wireReadSide({ store, tenantId: TENANT });
      rebuilt.projector.start();
      try {
        await rebuilt.projector.caughtUp;
        // Right by the scenario's own figures, not merely equal to the live models, which
        // the same code built.
        expectScenarioReadModels(rebuilt);
        expect(rebuilt.accountSummaries.all()).toEqual(bank.accountSummaries.all());
        for (const accountId of ['checking', 'savings']) {
          expect(rebuilt.transactionHistories.of(accountId)).toEqual(bank.transactionHistories.of(accountId));
        }
        expect(rebuilt.accountSummaries.position).toBe(bank.accountSummaries.position);
      } finally {
        await rebuilt.projector.stop();
      }
    });
  });

  it('follow new events live after catching up', async () => {
    await withBank(async (bank) => {
      await runAll(bank, scenario());
      await bank.projector.caughtUp;
      const outcome = await bank.handle(deposit('checking', 1_00));
      if (outcome.status !== 'accepted') throw new Error('the deposit was refused');
      await bank.projector.waitFor(outcome.lastGlobalPosition);
      expect(getAccountSummary(bank.accountSummaries, { accountId: 'checking' })?.balanceCents).toBe(1301_00);
    });
  });

  it('make a reader wait for a position no one has written yet, then fail clearly', async () => {
    await withBank(async (bank) => {
      await expect(bank.projector.waitFor(99, 50)).rejects.toThrow(ProjectionTimeoutError);
      await expect(bank.projector.waitFor(99, 50)).rejects.toThrow('made no progress towards position 99 for 50 ms');
    });
  });

  it('keep a reader waiting as long as the projector moves towards its position', async () => {
    await withBank(async (bank) => {
      await bank.projector.caughtUp;
      const waiting = bank.projector.waitFor(6, 250);
      // Six appends, 70 ms apart: longer in all than the stall timeout, never a stall.
      const appends = (async () => {
        for (const command of scenario()) {
          await new Promise((resolve) => setTimeout(resolve, 70));
          await bank.handle(command);
        }
      })();
      await expect(waiting).resolves.toBeUndefined();
      await appends;
    });
  });

  it('refuse to answer from read models whose projector has stopped, and say why', async () => {
    const store = new InMemoryEventStore();
    const failing = withDyingSubscriptions(store, new StoreUnavailableError('the server went away'));
    const readSide = wireReadSide({ store: failing, tenantId: TENANT });
    readSide.projector.start();
    await readSide.projector.caughtUp;
    await expect(readSide.projector.failed).rejects.toThrow(ProjectorStoppedError);
    expect(() => readSide.projector.throwIfFailed()).toThrow('the projector stopped: the server went away');
    await expect(readSide.projector.waitFor(0)).rejects.toBeInstanceOf(ProjectorStoppedError);
    const error = await readSide.projector.waitFor(5).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ProjectorStoppedError);
    expect((error as Error).cause).toBeInstanceOf(StoreUnavailableError);
  });
});

// ---- fixtures -------------------------------------------------------------------------

const TENANT = 'tenant-1';

async function withBank(test: (bank: Bank, store: InMemoryEventStore) => Promise<void>): Promise<void> {
  let tick = 0;
  const store = new InMemoryEventStore(() => tick++ * 1_000); // each append a second later
  const bank = wireBank({ store, tenantId: TENANT });
  try {
    await test(bank, store);
  } finally {
    await bank.stop();
    await store.close();
  }
}

async function runAll(bank: Bank, commands: BankAccountCommand[]): Promise<number> {
  let last = 0;
  for (const command of commands) {
    const outcome = await bank.handle(command);
    if (outcome.status !== 'accepted') throw new Error(`${command.type} was not recorded: ${outcome.status === 'rejected' ? outcome.rejection.code : outcome.status}`);
    last = outcome.lastGlobalPosition;
  }
  return last;
}

/** What the scenario's commands must leave in the read models, worked out by hand. */
function expectScenarioReadModels(readSide: ReadSide): void {
  expect(getAccountSummary(readSide.accountSummaries, { accountId: 'checking' })).toMatchObject({
    customerId: 'alice',
    accountType: 'Checking',
    balanceCents: 1300_00,
    status: 'Open',
    transactionCount: 2,
  });
  expect(getAccountSummary(readSide.accountSummaries, { accountId: 'savings' })).toMatchObject({
    balanceCents: 6000_00,
    status: 'Closed',
    transactionCount: 1,
  });
  expect(getAccountsByCustomer(readSide.accountSummaries, { customerId: 'alice' }).map((a) => [a.accountId, a.balanceCents])).toEqual([
    ['checking', 1300_00],
    ['savings', 6000_00],
  ]);
  expect(
    getTransactionHistory(readSide.transactionHistories, { accountId: 'checking' }).map((t) => [t.type, t.amountCents, t.description, t.balanceAfterCents]),
  ).toEqual([
    ['Deposit', 500_00, 'Salary deposit', 1500_00],
    ['Withdrawal', 200_00, 'ATM withdrawal', 1300_00],
  ]);
  expect(getTransactionHistory(readSide.transactionHistories, { accountId: 'savings' }).map((t) => [t.type, t.amountCents])).toEqual([
    ['Deposit', 1000_00],
  ]);
}

function scenario(): BankAccountCommand[] {
  return [
    { type: 'OpenAccount', data: { accountId: 'checking', customerId: 'alice', accountType: 'Checking', initialBalanceCents: 1000_00 } },
    { type: 'OpenAccount', data: { accountId: 'savings', customerId: 'alice', accountType: 'Savings', initialBalanceCents: 5000_00 } },
    deposit('checking', 500_00, 'Salary deposit'),
    { type: 'WithdrawMoney', data: { accountId: 'checking', transactionId: uuidv7(), amountCents: 200_00, description: 'ATM withdrawal' } },
    deposit('savings', 1000_00, 'Bonus deposit'),
    { type: 'CloseAccount', data: { accountId: 'savings', closeId: uuidv7(), reason: 'Customer request' } },
  ];
}

function deposit(accountId: string, amountCents: number, description = 'Deposit'): BankAccountCommand {
  return { type: 'DepositMoney', data: { accountId, transactionId: uuidv7(), amountCents, description } };
}
