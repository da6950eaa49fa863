// The checkpoint layer changes nothing a reader can see: read models saved as plain data and
// restored answer exactly as the originals, resume with only the newer events, refuse data
// that is not a save of this format, and tell the log they were saved from from another one.
import { describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { BankAccountCommand } from '../../src/domain/bank-account.ts';
import { accountStream, encode } from '../../src/domain/bank-account-codec.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import {
  checkSameLog,
  readModelsSnapshotFrom,
  restoreReadModels,
  snapshotOf,
  UnreadableSnapshotError,
} from '../../src/read-side/checkpoint.ts';
import type { ReadModelsSnapshot } from '../../src/read-side/checkpoint.ts';
import type { Checkpoint } from '../../src/read-side/projector.ts';
import { rebuildReadSide, sameReadModels, wireBank, wireReadSide } from '../../src/wire.ts';
import type { Bank, ReadSide } from '../../src/wire.ts';

describe('read models saved and restored', () => {
  it('answer every query exactly as the originals, after a trip through JSON', async () => {
    await withBank(async (bank) => {
      await runAll(bank, scenario());
      const restored = restoreReadModels(throughJson(savedFrom(bank)));

      expect(restored.checkpoint).toEqual(bank.projector.checkpoint);
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
      const saved = throughJson(savedFrom(bank));
      const later = await runAll(bank, [deposit('checking', 7_00), deposit('bob-1', 3_00)]);

      const applied: number[] = [];
      const resumed = wireReadSide({ store, tenantId: TENANT, resume: restoreReadModels(saved), onApplied: (recorded) => void applied.push(recorded.globalPosition) });
      await followToEnd(resumed, async () => {
        expect(applied).toEqual(later);
        expect(resumed.projector.eventsApplied).toBe(2);
        expect(resumed.projector.position).toBe(later.at(-1));
        expect(resumed.accountSummaries.get('checking')?.balanceCents).toBe(1307_00);
        const replayed = await rebuildReadSide({ store, tenantId: TENANT });
        expect(sameReadModels(resumed, replayed)).toBe(true);
      });
    });
  });

  it('is refused when it is of another format or not a save at all, saying what is wrong', async () => {
    await withBank(async (bank) => {
      await runAll(bank, scenario());
      const good = throughJson(savedFrom(bank));
      const broken: Array<[string, unknown, RegExp]> = [
        ['an older format', { ...good, formatVersion: 0 }, /format 0; this program reads format 1/],
        ['no format version', { ...good, formatVersion: undefined }, /no format version/],
        ['not an object', [good], /is not an object/],
        ['no checkpoint', { ...good, checkpoint: undefined }, /checkpoint is not an object/],
        ['a checkpoint at position 0', { ...good, checkpoint: { position: 0, eventId: 'x' } }, /checkpoint.position is not a whole number/],
        ['a read model ahead of its checkpoint', { ...good, accountSummary: { ...good.accountSummary, position: good.checkpoint.position + 1 } }, /accountSummary.position/],
        ['a balance as text', withAccount(good, { balanceCents: '1300.00' }), /accountSummary.accounts\[0\].balanceCents is not a whole number/],
        ['an unknown status', withAccount(good, { status: 'Frozen' }), /status is not one of Open, Closed/],
        ['a time no Date can hold', withAccount(good, { openedAtMs: 1e300 }), /openedAtMs is not a time/],
        ['an account twice', { ...good, accountSummary: { ...good.accountSummary, accounts: [good.accountSummary.accounts[0], good.accountSummary.accounts[0]] } }, /repeats checking/],
        ['a transaction without its amount', withTransaction(good, { amountCents: undefined }), /transactions\[0\].amountCents/],
        ['transactions that are not a list', { ...good, transactionHistory: { position: 1, accounts: [{ accountId: 'a', transactions: {} }] } }, /transactions is not a list/],
      ];
      for (const [what, data, message] of broken) {
        expect(() => readModelsSnapshotFrom(data), what).toThrow(UnreadableSnapshotError);
        expect(() => readModelsSnapshotFrom(data), what).toThrow(message);
      }
    });
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
    if (outcome.status !== 'accepted') throw new Error(`${command.type} was refused: ${outcome.rejection.code}`);
    positions.push(outcome.lastGlobalPosition);
  }
  await bank.projector.waitFor(positions.at(-1) ?? 0);
  return positions;
}

async function followToEnd(readSide: ReadSide, test: () => Promise<void>): Promise<void> {
  readSide.projector.start();
  try {
    await readSide.projector.caughtUp;
    await test();
  } finally {
    await readSide.projector.stop();
  }
}

function savedFrom(bank: Bank): ReadModelsSnapshot {
  const checkpoint = bank.projector.checkpoint;
  if (checkpoint === undefined) throw new Error('the read models have seen no event');
  return snapshotOf(bank, checkpoint);
}

/** What a file would give back: the snapshot written as JSON, read and checked. */
function throughJson(snapshot: ReadModelsSnapshot): ReadModelsSnapshot {
  return readModelsSnapshotFrom(JSON.parse(JSON.stringify(snapshot)));
}

function withAccount(snapshot: ReadModelsSnapshot, change: Record<string, unknown>): unknown {
  const [first, ...rest] = snapshot.accountSummary.accounts;
  return { ...snapshot, accountSummary: { ...snapshot.accountSummary, accounts: [{ ...first, ...change }, ...rest] } };
}

function withTransaction(snapshot: ReadModelsSnapshot, change: Record<string, unknown>): unknown {
  const [first, ...rest] = snapshot.transactionHistory.accounts;
  if (first === undefined) throw new Error('the scenario has transactions');
  const [transaction, ...others] = first.transactions;
  const changed = { ...first, transactions: [{ ...transaction, ...change }, ...others] };
  return { ...snapshot, transactionHistory: { ...snapshot.transactionHistory, accounts: [changed, ...rest] } };
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
    { type: 'CloseAccount', data: { accountId: 'savings', reason: 'Customer request' } },
  ];
}

function deposit(accountId: string, amountCents: number, description = 'Deposit'): BankAccountCommand {
  return { type: 'DepositMoney', data: { accountId, transactionId: uuidv7(), amountCents, description } };
}
