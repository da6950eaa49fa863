// The write side under contention: optimistic concurrency plus re-deciding on conflict
// must never let two withdrawals spend the same money.
import { describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { ConcurrencyError } from '../../src/event-store/errors.ts';
import { decode } from '../../src/domain/bank-account-codec.ts';
import { wireBank } from '../../src/wire.ts';
import { createCommandHandler } from '../../src/write-side/command-handler.ts';
import { bankAccount, commandIdOf, isRecordedBy } from '../../src/domain/bank-account.ts';
import type { BankAccountCommand } from '../../src/domain/bank-account.ts';
import type { EventStore } from '../../src/event-store/event-store.ts';
import type { RetryPolicy } from '../../src/write-side/command-handler.ts';
import { accountStream, encode } from '../../src/domain/bank-account-codec.ts';

describe('the command handler under contention', () => {
  it('lets exactly 10 of 50 concurrent 10.00 withdrawals from 100.00 through', async () => {
    const store = new InMemoryEventStore();
    const bank = wireBank({ store, tenantId: TENANT });
    try {
      await bank.handle({ type: 'OpenAccount', data: { accountId: ACCOUNT, customerId: 'c-1', accountType: 'Checking', initialBalanceCents: 100_00 } });

      const outcomes = await Promise.all(
        Array.from({ length: 50 }, () =>
          bank.handle({ type: 'WithdrawMoney', data: { accountId: ACCOUNT, transactionId: uuidv7(), amountCents: 10_00, description: 'ATM' } }),
        ),
      );

      const accepted = outcomes.filter((outcome) => outcome.status === 'accepted');
      const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.rejection.code] : []));
      expect(accepted).toHaveLength(10);
      expect(refusals).toEqual(Array(40).fill('InsufficientFunds'));

      const stream = await readWholeStream(store, { tenantId: TENANT, aggregateId: ACCOUNT });
      expect(stream).toHaveLength(11);
      expect(stream.map((event) => event.version)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
      const state = stream.map(decode).reduce(bankAccount.evolve, bankAccount.initialState);
      expect(state).toEqual({ status: 'Open', balanceCents: 0 });

      await bank.projector.waitFor(Math.max(...accepted.map((outcome) => outcome.lastGlobalPosition)));
      expect(bank.accountSummaries.get(ACCOUNT)).toMatchObject({ balanceCents: 0, transactionCount: 10 });
      expect(bank.transactionHistories.of(ACCOUNT).at(-1)?.balanceAfterCents).toBe(0);
    } finally {
      await bank.stop();
      await store.close();
    }
  });

  it('gives up after the bounded number of attempts and passes the conflict on', async () => {
    const store = new InMemoryEventStore();
    let appends = 0;
    // A store where someone else always wins the race.
    const contended = {
      ...bindStore(store),
      append: async () => {
        appends++;
        throw new ConcurrencyError({ tenantId: TENANT, aggregateId: ACCOUNT, actualVersion: 1, actualGlobalPosition: 1 });
      },
    };
    const handle = handlerOver(contended, { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 });
    await expect(handle(OPENING)).rejects.toBeInstanceOf(ConcurrencyError);
    expect(appends).toBe(3);
  });

  it('passes any other store error straight through, without retrying', async () => {
    const store = new InMemoryEventStore();
    let appends = 0;
    const broken = { ...bindStore(store), append: async () => (appends++, Promise.reject(new Error('disk on fire'))) };
    const handle = handlerOver(broken);
    await expect(handle(OPENING)).rejects.toThrow('disk on fire');
    expect(appends).toBe(1);
  });
});

// ---- fixtures -------------------------------------------------------------------------

const TENANT = 'tenant-1';
const ACCOUNT = 'acc-1';

const OPENING = { type: 'OpenAccount', data: { accountId: ACCOUNT, customerId: 'c', accountType: 'Checking', initialBalanceCents: 0 } } as const;

function handlerOver(store: EventStore, retry?: RetryPolicy) {
  const streamOf = (command: BankAccountCommand) => accountStream(command.data.accountId);
  const options = { store, tenantId: TENANT, decider: bankAccount, streamOf, encode, decode, commandIdOf, isRecordedBy, now: Date.now };
  return createCommandHandler(retry === undefined ? options : { ...options, retry });
}

function bindStore(store: InMemoryEventStore) {
  return {
    append: store.append.bind(store),
    readStream: store.readStream.bind(store),
    subscribe: store.subscribe.bind(store),
    close: store.close.bind(store),
  };
}
