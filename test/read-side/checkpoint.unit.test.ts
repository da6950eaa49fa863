// The checkpoint layer changes nothing a reader can see: each read model saved as plain data
// and restored answers exactly as the original, resumes with only the newer events, even when
// the read models were saved at different positions, refuses data that is not a save of this
// format and read model, and tells the log it was saved from from another one.
import { describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { BankAccountCommand } from '../../src/domain/bank-account.ts';
import { accountStream, encode } from '../../src/domain/bank-account-codec.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import {
  checkSameLog,
  readModelSnapshotFrom,
  restoreReadModel,
  snapshotOf,
  UnreadableSnapshotError,
} from '../../src/read-side/checkpoint.ts';
import type { ReadModelSnapshot, RestoredReadModels } from '../../src/read-side/checkpoint.ts';
import type { Checkpoint } from '../../src/read-side/projector.ts';
import { needReadModels, ReadModelNotWiredError } from '../../src/read-side/read-models.ts';
import type { ReadModelKey } from '../../src/read-side/read-models.ts';
import { rebuildReadSide, sameReadModels, wireBank, wireReadSide } from '../../src/wire.ts';
import type { Bank, PartialReadSide } from '../../src/wire.ts';

describe('read models saved and restored', () => {
  it('answer every query exactly as the originals, after a trip through JSON', async () => {
    await withBank(async (bank) => {
      await runAll(bank, scenario());
      const summaries = restoreReadModel('accountSummaries', throughJson('accountSummaries', savedFrom(bank, 'accountSummaries')));
      const histories = restoreReadModel('transactionHistories', throughJson('transactionHistories', savedFrom(bank, 'transactionHistories')));

      expect(summaries.checkpoint).toEqual(bank.projector.checkpoint);
      expect(histories.checkpoint).toEqual(bank.projector.checkpoint);
      const restored = { accountSummaries: summaries.readModel, transactionHistories: histories.readModel };
      expect(restored.accountSummaries.position).toBe(bank.accountSummaries.position);
      expect(restored.transactionHistories.position).toBe(bank.transactionHistories.position);
      expect(restored.accountSummaries.all()).toEqual(bank.accountSummaries.all());
      for (const accountId of ['checking', 'savings', 'nobody']) {
        expect(restored.accountSummaries.get(accountId)).toEqual(bank.accountSummaries.get(accountId));
        expect(restored.transactionHistories.of(accountId)).toEqual(bank.transactionHistories.of(accountId));
      }
      expect(restored.accountSummaries.ofCustomer('alice')).toEqual(bank.accountSummaries.ofCustomer('alice'));
      expect(restored.accountSummaries.ofCustomer('bob')).toEqual(bank.accountSummaries.ofCustomer('bob'));
      expect(restored.transactionHistories.accountIds()).toEqual(bank.transactionHistories.accountIds());
      // And the answers are right by the scenario's figures, not merely equal.
      expect(restored.accountSummaries.get('checking')).toMatchObject({ balanceCents: 1300_00, transactionCount: 2, openedAt: new Date(0).toISOString() });
    });
  });

  it('resume with only the events after the checkpoint, and end up as a replay from position 1', async () => {
    await withBank(async (bank, store) => {
      await runAll(bank, scenario());
      const saved = savedAll(bank);
      const later = await runAll(bank, [deposit('checking', 7_00), deposit('bob-1', 3_00)]);

      const applied: number[] = [];
      const resumed = wireReadSide({ store, tenantId: TENANT, resume: restoreAll(saved), onApplied: (recorded) => void applied.push(recorded.globalPosition) });
      await followToEnd(resumed, async () => {
        expect(applied).toEqual(later);
        expect(resumed.projector.eventsApplied).toBe(2);
        expect(resumed.projector.eventsTakenIn(resumed.accountSummaries)).toBe(2);
        expect(resumed.projector.position).toBe(later.at(-1));
        expect(resumed.accountSummaries.get('checking')?.balanceCents).toBe(1307_00);
        const replayed = await rebuildReadSide({ store, tenantId: TENANT });
        expect(sameReadModels(resumed, replayed)).toBe(true);
      });
    });
  });

  it('resume each from its own checkpoint: the projector follows on from the lowest, and each read model takes in only the events past its own', async () => {
    await withBank(async (bank, store) => {
      await runAll(bank, scenario());
      const older = savedFrom(bank, 'transactionHistories');
      const middle = await runAll(bank, [deposit('checking', 7_00), deposit('bob-1', 3_00)]);
      const newer = savedFrom(bank, 'accountSummaries');
      const newerPortfolios = savedFrom(bank, 'customerPortfolios');
      const latest = await runAll(bank, [deposit('checking', 1_00)]);

      const applied: number[] = [];
      const resume: RestoredReadModels = {
        transactionHistories: restoreReadModel('transactionHistories', throughJson('transactionHistories', older)),
        accountSummaries: restoreReadModel('accountSummaries', throughJson('accountSummaries', newer)),
        customerPortfolios: restoreReadModel('customerPortfolios', throughJson('customerPortfolios', newerPortfolios)),
      };
      const resumed = wireReadSide({ store, tenantId: TENANT, resume, onApplied: (recorded) => void applied.push(recorded.globalPosition) });
      await followToEnd(resumed, async () => {
        expect(applied).toEqual([...middle, ...latest]);
        expect(resumed.projector.eventsTakenIn(resumed.transactionHistories)).toBe(3);
        expect(resumed.projector.eventsTakenIn(resumed.accountSummaries)).toBe(1);
        expect(resumed.projector.eventsTakenIn(resumed.customerPortfolios)).toBe(1);
        // Fed the two deposits again, AccountSummary would count them twice, and CustomerPortfolio its money in.
        expect(resumed.accountSummaries.get('checking')).toMatchObject({ balanceCents: 1308_00, transactionCount: 4 });
        expect(resumed.customerPortfolios.of('alice')).toMatchObject({ moneyInCents: 6000_00 + 500_00 + 1000_00 + 7_00 + 1_00 });
        expect(resumed.transactionHistories.of('checking').map((row) => row.amountCents)).toEqual([500_00, 200_00, 7_00, 1_00]);
        expect(sameReadModels(resumed, await rebuildReadSide({ store, tenantId: TENANT }))).toBe(true);
      });
    });
  });

  it('build a read model added later, with no save of its own, from position 1, while the others take in only the events past theirs', async () => {
    await withBank(async (bank, store) => {
      await runAll(bank, scenario());
      const saved = savedAll(bank);
      const later = await runAll(bank, [deposit('checking', 7_00)]);

      // What a save from before CustomerPortfolio existed holds: the other two.
      const { customerPortfolios: _, ...olderSave } = restoreAll(saved);
      const resumed = wireReadSide({ store, tenantId: TENANT, resume: olderSave });
      await followToEnd(resumed, async () => {
        expect(resumed.projector.position).toBe(later.at(-1));
        expect(resumed.projector.eventsTakenIn(resumed.customerPortfolios)).toBe(later.at(-1));
        expect(resumed.projector.eventsTakenIn(resumed.accountSummaries)).toBe(1);
        expect(resumed.projector.eventsTakenIn(resumed.transactionHistories)).toBe(1);
        expect(resumed.accountSummaries.get('checking')).toMatchObject({ balanceCents: 1307_00, transactionCount: 3 });
        expect(sameReadModels(resumed, await rebuildReadSide({ store, tenantId: TENANT }))).toBe(true);
      });
    });
  });

  it('is refused when it is of another format, of the other read model or not a save at all, saying what is wrong', async () => {
    await withBank(async (bank) => {
      await runAll(bank, scenario());
      const good = throughJson('accountSummaries', savedFrom(bank, 'accountSummaries'));
      const history = throughJson('transactionHistories', savedFrom(bank, 'transactionHistories'));
      const broken: Array<[string, ReadModelKey, unknown, RegExp]> = [
        ['an older format', 'accountSummaries', { ...good, formatVersion: 1 }, /format 1; this program reads format 3/],
        ['no format version', 'accountSummaries', { ...good, formatVersion: undefined }, /no format version/],
        ['the other read model', 'accountSummaries', history, /it holds TransactionHistory, not AccountSummary/],
        ['no read model named', 'transactionHistories', { ...history, readModel: undefined }, /it holds no named read model, not TransactionHistory/],
        ['not an object', 'accountSummaries', [good], /is not an object/],
        ['no checkpoint', 'accountSummaries', { ...good, checkpoint: undefined }, /checkpoint is not an object/],
        ['a checkpoint at position 0', 'accountSummaries', { ...good, checkpoint: { position: 0, eventId: 'x' } }, /checkpoint.position is not a whole number/],
        ['a read model ahead of its checkpoint', 'accountSummaries', { ...good, snapshot: { ...good.snapshot, position: good.checkpoint.position + 1 } }, /snapshot.position/],
        ['a balance as text', 'accountSummaries', withAccount(good, { balanceCents: '1300.00' }), /snapshot.accounts\[0\].balanceCents is not a whole number/],
        ['an unknown status', 'accountSummaries', withAccount(good, { status: 'Frozen' }), /snapshot.accounts\[0\].status is not one of Open, Closed/],
        ['a time no Date can hold', 'accountSummaries', withAccount(good, { openedAtMs: 1e300 }), /openedAtMs is not a time/],
        ['an account twice', 'accountSummaries', { ...good, snapshot: { ...good.snapshot, accounts: [good.snapshot.accounts[0], good.snapshot.accounts[0]] } }, /snapshot.accounts\[1\].accountId repeats checking/],
        ['a transaction without its amount', 'transactionHistories', withTransaction(history, { amountCents: undefined }), /snapshot.accounts\[0\].transactions\[0\].amountCents is not a whole number/],
        ['a transaction further down as text', 'transactionHistories', withTransaction(history, { description: 7 }, 1), /snapshot.accounts\[0\].transactions\[1\].description is not a string/],
        ['transactions that are not a list', 'transactionHistories', { ...history, snapshot: { position: 1, accounts: [{ accountId: 'a', transactions: {} }] } }, /snapshot.accounts\[0\].transactions is not a list/],
      ];
      for (const [what, key, data, message] of broken) {
        expect(() => readModelSnapshotFrom(key, data), what).toThrow(UnreadableSnapshotError);
        expect(() => readModelSnapshotFrom(key, data), what).toThrow(message);
      }
    });
  });
});

describe('a read side with only some read models', () => {
  it('wires and feeds only those; asking for one left out is a clear error, not an empty answer', async () => {
    await withBank(async (bank, store) => {
      const last = (await runAll(bank, scenario())).at(-1);
      const some: PartialReadSide = wireReadSide({ store, tenantId: TENANT, readModels: ['accountSummaries'] });
      await followToEnd(some, async () => {
        expect(some.transactionHistories).toBeUndefined();
        const { accountSummaries } = needReadModels(some, 'accountSummaries');
        expect(accountSummaries.position).toBe(last);
        expect(accountSummaries.all()).toEqual(bank.accountSummaries.all());
        expect(() => needReadModels(some, 'accountSummaries', 'transactionHistories')).toThrow(ReadModelNotWiredError);
        expect(() => needReadModels(some, 'transactionHistories')).toThrow('TransactionHistory is not wired in this run');
      });
    });
  });

  it('has nothing to follow when it has no read model at all', async () => {
    const store = new InMemoryEventStore();
    const bank = wireBank({ store, tenantId: TENANT, readModels: [] });
    try {
      expect(await bank.handle(scenario()[0]!)).toMatchObject({ status: 'accepted' });
      expect(bank.projector.position).toBe(0);
      expect(bank.projector.eventsApplied).toBe(0);
    } finally {
      await bank.stop();
      await store.close();
    }
  });
});

describe('telling the log a checkpoint was saved from from another one', () => {
  it('finds the same event at the checkpoint position in the same log', async () => {
    const store = await storeWith(TENANT, ['a1', 'a2', 'a3']);
    const checkpoint = await checkpointAt(store, TENANT, 2);
    await expect(checkSameLog(store, TENANT, checkpoint)).resolves.toEqual({ sameLog: true });
  });

  it('sees another event at that position (a memory server restarted and written to again)', async () => {
    const saved = await checkpointAt(await storeWith(TENANT, ['a1', 'a2', 'a3']), TENANT, 2);
    const restarted = await storeWith(TENANT, ['b1', 'b2', 'b3']);
    await expect(checkSameLog(restarted, TENANT, saved)).resolves.toEqual({ sameLog: false, reason: 'the log holds another event at position 2' });
  });

  it('sees a log that ends before the checkpoint', async () => {
    const saved = await checkpointAt(await storeWith(TENANT, ['a1', 'a2', 'a3']), TENANT, 3);
    const restarted = await storeWith(TENANT, ['b1']);
    await expect(checkSameLog(restarted, TENANT, saved)).resolves.toEqual({ sameLog: false, reason: 'the log ends before position 3' });
  });

  it('sees a log with no event at that position but later ones', async () => {
    // Positions are global to the store: another tenant's event takes position 2 here.
    const saved = await checkpointAt(await storeWith(TENANT, ['a1', 'a2', 'a3']), TENANT, 2);
    const other = await storeWith(TENANT, ['b1']);
    await appendOpening(other, 'another-tenant', 'x1');
    await appendOpening(other, TENANT, 'b3');
    await expect(checkSameLog(other, TENANT, saved)).resolves.toEqual({ sameLog: false, reason: 'the log has no event at position 2' });
  });
});

// ---- fixtures -------------------------------------------------------------------------

const TENANT = 'tenant-1';

async function withBank(test: (bank: Bank, store: InMemoryEventStore) => Promise<void>): Promise<void> {
  let tick = 0;
  const store = new InMemoryEventStore(() => tick++ * 1_000);
  const bank = wireBank({ store, tenantId: TENANT });
  try {
    await test(bank, store);
  } finally {
    await bank.stop();
    await store.close();
  }
}

/** Runs the commands and waits until the read models reflect them; their log positions. */
async function runAll(bank: Bank, commands: BankAccountCommand[]): Promise<number[]> {
  const positions: number[] = [];
  for (const command of commands) {
    const outcome = await bank.handle(command);
    if (outcome.status !== 'accepted') throw new Error(`${command.type} was not recorded: ${outcome.status === 'rejected' ? outcome.rejection.code : outcome.status}`);
    positions.push(outcome.lastGlobalPosition);
  }
  await bank.projector.waitFor(positions.at(-1) ?? 0);
  return positions;
}

async function followToEnd(readSide: PartialReadSide, test: () => Promise<void>): Promise<void> {
  readSide.projector.start();
  try {
    await readSide.projector.caughtUp;
    await test();
  } finally {
    await readSide.projector.stop();
  }
}

function savedFrom<K extends ReadModelKey>(bank: Bank, key: K): ReadModelSnapshot<K> {
  const checkpoint = bank.projector.checkpoint;
  if (checkpoint === undefined) throw new Error('the read models have seen no event');
  return snapshotOf(key, bank[key], checkpoint, bank.projector.parked);
}

function savedAll(bank: Bank) {
  return {
    accountSummaries: savedFrom(bank, 'accountSummaries'),
    transactionHistories: savedFrom(bank, 'transactionHistories'),
    customerPortfolios: savedFrom(bank, 'customerPortfolios'),
  };
}

function restoreAll(saved: ReturnType<typeof savedAll>): RestoredReadModels {
  return {
    accountSummaries: restoreReadModel('accountSummaries', throughJson('accountSummaries', saved.accountSummaries)),
    transactionHistories: restoreReadModel('transactionHistories', throughJson('transactionHistories', saved.transactionHistories)),
    customerPortfolios: restoreReadModel('customerPortfolios', throughJson('customerPortfolios', saved.customerPortfolios)),
  };
}

/** What a file would give back: the snapshot written as JSON, read and checked. */
function throughJson<K extends ReadModelKey>(key: K, snapshot: ReadModelSnapshot<K>): ReadModelSnapshot<K> {
  return readModelSnapshotFrom(key, JSON.parse(JSON.stringify(snapshot)));
}

function withAccount(saved: ReadModelSnapshot<'accountSummaries'>, change: Record<string, unknown>): unknown {
  const [first, ...rest] = saved.snapshot.accounts;
  return { ...saved, snapshot: { ...saved.snapshot, accounts: [{ ...first, ...change }, ...rest] } };
}

function withTransaction(saved: ReadModelSnapshot<'transactionHistories'>, change: Record<string, unknown>, index = 0): unknown {
  const [first, ...rest] = saved.snapshot.accounts;
  if (first === undefined) throw new Error('the scenario has transactions');
  const transactions = first.transactions.map((transaction, at) => (at === index ? { ...transaction, ...change } : transaction));
  return { ...saved, snapshot: { ...saved.snapshot, accounts: [{ ...first, transactions }, ...rest] } };
}

/** A store whose tenant log holds one AccountOpened per id, in order, at positions 1, 2, ... */
async function storeWith(tenantId: string, accountIds: string[]): Promise<InMemoryEventStore> {
  const store = new InMemoryEventStore();
  for (const accountId of accountIds) await appendOpening(store, tenantId, accountId);
  return store;
}

async function appendOpening(store: InMemoryEventStore, tenantId: string, accountId: string): Promise<void> {
  const opened = encode({ type: 'AccountOpened', data: { accountId, customerId: 'c', accountType: 'Checking', initialBalanceCents: 0 } });
  await store.append({ tenantId, stream: accountStream(accountId), expectedVersion: 0, events: [{ ...opened, eventId: uuidv7() }] });
}

async function checkpointAt(store: InMemoryEventStore, tenantId: string, position: number): Promise<Checkpoint> {
  const readSide = wireReadSide({ store, tenantId, until: (recorded) => recorded.globalPosition <= position });
  let checkpoint: Checkpoint | undefined;
  await followToEnd(readSide, async () => {
    checkpoint = readSide.projector.checkpoint;
  });
  if (checkpoint?.position !== position) throw new Error(`no event at position ${position}`);
  return checkpoint;
}

function scenario(): BankAccountCommand[] {
  return [
    { type: 'OpenAccount', data: { accountId: 'checking', customerId: 'alice', accountType: 'Checking', initialBalanceCents: 1000_00 } },
    { type: 'OpenAccount', data: { accountId: 'savings', customerId: 'alice', accountType: 'Savings', initialBalanceCents: 5000_00 } },
    { type: 'OpenAccount', data: { accountId: 'bob-1', customerId: 'bob', accountType: 'Checking', initialBalanceCents: 0 } },
    deposit('checking', 500_00, 'Salary deposit'),
    { type: 'WithdrawMoney', data: { accountId: 'checking', transactionId: uuidv7(), amountCents: 200_00, description: 'ATM withdrawal' } },
    deposit('savings', 1000_00, 'Bonus deposit'),
    { type: 'CloseAccount', data: { accountId: 'savings', closeId: uuidv7(), reason: 'Customer request' } },
  ];
}

function deposit(accountId: string, amountCents: number, description = 'Deposit'): BankAccountCommand {
  return { type: 'DepositMoney', data: { accountId, transactionId: uuidv7(), amountCents, description } };
}
