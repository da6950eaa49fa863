// The CustomerPortfolio read model, given events → then this portfolio: accounts of several
// customers, closing counted as money out, an event for an account it never saw opened; its
// query; its trip through a save and back; and a rebuild that tells it apart.
import { describe, expect, it } from 'vitest';
import type { BankAccountEvent } from '../../src/domain/bank-account.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { readModelSnapshotFrom, restoreReadModel, snapshotOf, UnreadableSnapshotError } from '../../src/read-side/checkpoint.ts';
import { CustomerPortfolioReadModel } from '../../src/read-side/customer-portfolio/customer-portfolio.ts';
import { getCustomerPortfolio } from '../../src/read-side/customer-portfolio/queries.ts';
import type { ProjectedEvent } from '../../src/read-side/read-model.ts';
import { sameReadModels, wireBank, wireReadSide } from '../../src/wire.ts';

describe('CustomerPortfolio', () => {
  it('given two customers’ accounts, one closed, then each customer’s accounts, totals and money moved', () => {
    const portfolios = given(twoCustomers());

    expect(getCustomerPortfolio(portfolios, { customerId: 'alice' })).toEqual({
      customerId: 'alice',
      accounts: [
        { accountId: 'alice-checking', accountType: 'Checking', status: 'Open', balanceCents: 1300_00 },
        { accountId: 'alice-savings', accountType: 'Savings', status: 'Closed', balanceCents: 6000_00 },
      ],
      accountCount: 2,
      totalBalanceCents: 1300_00, // the closed account's 6000.00 was paid out
      moneyInCents: 1000_00 + 5000_00 + 500_00 + 1000_00,
      moneyOutCents: 200_00 + 6000_00,
      withdrawnCents: 200_00,
      paidOutAtClosingCents: 6000_00,
      lastActivity: at(8),
    });
    expect(getCustomerPortfolio(portfolios, { customerId: 'bob' })).toEqual({
      customerId: 'bob',
      accounts: [{ accountId: 'bob-checking', accountType: 'Checking', status: 'Open', balanceCents: 30_00 }],
      accountCount: 1,
      totalBalanceCents: 30_00,
      moneyInCents: 50_00,
      moneyOutCents: 20_00,
      withdrawnCents: 20_00,
      paidOutAtClosingCents: 0,
      lastActivity: at(6),
    });
    expect(portfolios.all().map((portfolio) => portfolio.customerId)).toEqual(['alice', 'bob']);
    expect(portfolios.position).toBe(8);
  });

  it('keeps money in less money out equal to the total balance, closing counted as money out', () => {
    const portfolios = given(twoCustomers());
    for (const portfolio of portfolios.all()) {
      expect(portfolio.moneyInCents - portfolio.moneyOutCents, portfolio.customerId).toBe(portfolio.totalBalanceCents);
    }
  });

  it('counts a customer whose every account is closed: their accounts, nothing left in the bank', () => {
    const portfolios = given([
      opened(1, 'carol-1', 'carol', 'Savings', 40_00),
      deposited(2, 'carol-1', 10_00, 50_00),
      closed(3, 'carol-1', 50_00),
    ]);
    expect(getCustomerPortfolio(portfolios, { customerId: 'carol' })).toMatchObject({
      accountCount: 1,
      totalBalanceCents: 0,
      moneyInCents: 50_00,
      moneyOutCents: 50_00,
      paidOutAtClosingCents: 50_00,
      lastActivity: at(3),
    });
  });

  it('passes over an event for an account it never saw opened, and still moves on to its position', () => {
    const portfolios = given([
      opened(1, 'alice-checking', 'alice', 'Checking', 10_00),
      deposited(2, 'stranger-1', 99_00, 99_00),
      withdrawn(3, 'stranger-1', 1_00, 98_00),
      closed(4, 'stranger-1', 98_00),
    ]);
    expect(portfolios.position).toBe(4);
    expect(portfolios.all()).toEqual([expect.objectContaining({ customerId: 'alice', moneyInCents: 10_00, moneyOutCents: 0, lastActivity: at(1) })]);
  });

  it('answers no portfolio for a customer it has seen no account of', () => {
    expect(getCustomerPortfolio(given(twoCustomers()), { customerId: 'nobody' })).toBeUndefined();
    expect(getCustomerPortfolio(new CustomerPortfolioReadModel(), { customerId: 'alice' })).toBeUndefined();
  });

  it('answers as the original after a trip through a save as JSON, and resumes with only the later events', () => {
    const events = [...twoCustomers(), deposited(9, 'bob-checking', 5_00, 35_00), opened(10, 'carol-1', 'carol', 'Savings', 1_00)];
    const original = given(events.slice(0, 8)); // Alice's savings closed, paid out
    const saved = snapshotOf('customerPortfolios', original, { position: 8, eventId: 'event-8', recordedAtMs: 8_000 }, []);
    const restored = restoreReadModel('customerPortfolios', readModelSnapshotFrom('customerPortfolios', JSON.parse(JSON.stringify(saved))));
    expect(restored.checkpoint).toEqual({ position: 8, eventId: 'event-8', recordedAtMs: 8_000 });
    expect(restored.readModel.position).toBe(8);
    expect(restored.readModel.all()).toEqual(original.all());

    for (const event of events.slice(8)) restored.readModel.apply(event);
    expect(restored.readModel.all()).toEqual(given(events).all());
  });

  it.each<[string, (accounts: Record<string, unknown>[]) => unknown[], RegExp]>([
    ['money in below 0', ([first, ...rest]) => [{ ...first, moneyInCents: -1 }, ...rest], /accounts\[0\]\.moneyInCents is not a whole number from 0/],
    ['an unknown status', ([first, ...rest]) => [{ ...first, status: 'Frozen' }, ...rest], /accounts\[0\]\.status is not one of Open, Closed/],
    ['no customer', ([first, ...rest]) => [{ ...first, customerId: undefined }, ...rest], /accounts\[0\]\.customerId is not a string/],
    ['an account twice', (accounts) => [...accounts, accounts[0]], /accounts\[3\]\.accountId repeats alice-checking/],
  ])('refuses a save with %s, saying where', (_, spoil, message) => {
    const saved = JSON.parse(JSON.stringify(snapshotOf('customerPortfolios', given(twoCustomers()), { position: 8, eventId: 'event-8', recordedAtMs: 8_000 }, [])));
    const spoiled = { ...saved, snapshot: { ...saved.snapshot, accounts: spoil(saved.snapshot.accounts) } };
    expect(() => readModelSnapshotFrom('customerPortfolios', spoiled)).toThrow(UnreadableSnapshotError);
    expect(() => readModelSnapshotFrom('customerPortfolios', spoiled)).toThrow(message);
  });
});

describe('a rebuild', () => {
  it('builds CustomerPortfolio from the log like the others, and tells it apart when it alone differs', async () => {
    let tick = 0;
    const store = new InMemoryEventStore(() => tick++ * 1_000);
    const bank = wireBank({ store, tenantId: TENANT });
    try {
      for (const command of [
        { type: 'OpenAccount', data: { accountId: 'a-1', customerId: 'alice', accountType: 'Checking', initialBalanceCents: 10_00 } },
        { type: 'DepositMoney', data: { accountId: 'a-1', transactionId: 't-1', amountCents: 5_00, description: '' } },
        { type: 'CloseAccount', data: { accountId: 'a-1', closeId: 'c-1', reason: '' } },
      ] as const) {
        const outcome = await bank.handle(command);
        if (outcome.status !== 'accepted') throw new Error(`${command.type} was refused`);
        await bank.projector.waitFor(outcome.lastGlobalPosition);
      }
      const rebuilt = await bank.rebuild();
      expect(rebuilt.customerPortfolios.all()).toEqual(bank.customerPortfolios.all());
      expect(getCustomerPortfolio(rebuilt.customerPortfolios, { customerId: 'alice' })).toMatchObject({ moneyInCents: 15_00, moneyOutCents: 15_00, totalBalanceCents: 0 });
      expect(sameReadModels(rebuilt, bank)).toBe(true);

      // The same read side but for a CustomerPortfolio one event short: only it differs.
      const shortOfOne = wireReadSide({ store, tenantId: TENANT, until: (recorded) => recorded.globalPosition <= 2 });
      shortOfOne.projector.start();
      await shortOfOne.projector.caughtUp;
      await shortOfOne.projector.stop();
      const mixed = { ...rebuilt, customerPortfolios: shortOfOne.customerPortfolios };
      expect(sameReadModels(mixed, bank, ['accountSummaries', 'transactionHistories'])).toBe(true);
      expect(sameReadModels(mixed, bank, ['customerPortfolios'])).toBe(false);
      expect(sameReadModels(mixed, bank)).toBe(false);

      // Built alone, from the log as it is, it is the same read model.
      const alone = await bank.rebuild({ readModels: ['customerPortfolios'] });
      expect(alone.accountSummaries).toBeUndefined();
      expect(sameReadModels(alone, bank, ['customerPortfolios'])).toBe(true);
    } finally {
      await bank.stop();
      await store.close();
    }
  });
});

// ---- fixtures -------------------------------------------------------------------------

const TENANT = 'tenant-1';

/** The read model after taking in these events, in order. */
function given(events: readonly ProjectedEvent[]): CustomerPortfolioReadModel {
  const portfolios = new CustomerPortfolioReadModel();
  for (const event of events) portfolios.apply(event);
  return portfolios;
}

/** Alice opens two accounts and closes her savings; Bob's account sits between hers. */
function twoCustomers(): ProjectedEvent[] {
  return [
    opened(1, 'alice-checking', 'alice', 'Checking', 1000_00),
    opened(2, 'alice-savings', 'alice', 'Savings', 5000_00),
    opened(3, 'bob-checking', 'bob', 'Checking', 50_00),
    deposited(4, 'alice-checking', 500_00, 1500_00),
    withdrawn(5, 'alice-checking', 200_00, 1300_00),
    withdrawn(6, 'bob-checking', 20_00, 30_00),
    deposited(7, 'alice-savings', 1000_00, 6000_00),
    closed(8, 'alice-savings', 6000_00),
  ];
}

/** Each event was recorded a second after the one before. */
function at(position: number): string {
  return new Date(position * 1_000).toISOString();
}

function projected(globalPosition: number, event: BankAccountEvent): ProjectedEvent {
  return { event, globalPosition, version: 1, recordedAtMs: globalPosition * 1_000 };
}

function opened(position: number, accountId: string, customerId: string, accountType: string, initialBalanceCents: number): ProjectedEvent {
  return projected(position, { type: 'AccountOpened', data: { accountId, customerId, accountType, initialBalanceCents } });
}

function deposited(position: number, accountId: string, amountCents: number, balanceAfterCents: number): ProjectedEvent {
  return projected(position, { type: 'MoneyDeposited', data: { accountId, transactionId: `t-${position}`, amountCents, description: '', balanceAfterCents } });
}

function withdrawn(position: number, accountId: string, amountCents: number, balanceAfterCents: number): ProjectedEvent {
  return projected(position, { type: 'MoneyWithdrawn', data: { accountId, transactionId: `t-${position}`, amountCents, description: '', balanceAfterCents } });
}

function closed(position: number, accountId: string, finalBalanceCents: number): ProjectedEvent {
  return projected(position, { type: 'AccountClosed', data: { accountId, reason: '', finalBalanceCents } });
}
