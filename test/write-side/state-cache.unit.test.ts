// The state cache changes nothing a caller can see: random command sequences, sent by
// several handlers ("processes") to one store, get exactly the decisions the plain
// read-fold-decide handler makes, the same events and the same refusals. A refusal is
// never decided on a state another writer had already moved on.

import { describe, expect, it } from 'vitest';
import { bankAccount, commandIdOf, isRecordedBy } from '../../src/domain/bank-account.ts';
import type { BankAccountCommand, BankAccountEvent, BankAccountRejection, BankAccountState } from '../../src/domain/bank-account.ts';
import { accountStream, decode, encode } from '../../src/domain/bank-account-codec.ts';
import type { EventStore } from '../../src/event-store/event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { newId } from '../../src/ids.ts';
import { createCommandHandler } from '../../src/write-side/command-handler.ts';
import type { CommandHandler, CommandOutcome, RetryPolicy } from '../../src/write-side/command-handler.ts';
import { StateCache } from '../../src/write-side/state-cache.ts';
import { seededRandom } from '../support/seeded-random.ts';

const ACCOUNTS = ['a', 'b', 'c'] as const;

describe('the state cache', () => {
  it.each(seeds(12))('decides as the plain handler does while another process writes behind its back (seed %i)', async (seed) => {
    const random = seededRandom(seed);
    const plainStore = new InMemoryEventStore();
    const cachedStore = new InMemoryEventStore();
    // Two processes in each world; in the cached world each has a cache of its own, so
    // whatever one writes leaves the other's cache stale.
    const plain = [handler(plainStore, false), handler(plainStore, false)];
    const cached = [handler(cachedStore, true), handler(cachedStore, true)];
    for (let step = 0; step < 300; step++) {
      const process = random() < 0.5 ? 0 : 1;
      const command = randomCommand(random, step);
      const expected = await plain[process]!(command);
      const actual = await cached[process]!(command);
      expect(decisionOf(actual), `step ${step}, seed ${seed}: ${JSON.stringify(command)}`).toEqual(decisionOf(expected));
    }
    for (const accountId of ACCOUNTS) {
      expect(await eventsOf(cachedStore, accountId)).toEqual(await eventsOf(plainStore, accountId));
    }
  });

  it.each(seeds(8))('makes every decision on the stream as it stood, with handlers racing (seed %i)', async (seed) => {
    const random = seededRandom(seed);
    const store = jitteryStore(new InMemoryEventStore(), random);
    const processes = Array.from({ length: 6 }, (_, index) => ({ handle: handler(store, index % 2 === 0), commands: 60 }));
    const decisions: Array<{ command: BankAccountCommand; headAtStart: number; outcome: CommandOutcome<BankAccountEvent, BankAccountRejection> }> = [];
    let step = 0;
    await Promise.all(
      processes.map(async ({ handle, commands }) => {
        for (let i = 0; i < commands; i++) {
          const command = randomCommand(random, step++);
          const headAtStart = await headOf(store, command.data.accountId);
          decisions.push({ command, headAtStart, outcome: await handle(command) });
        }
      }),
    );

    const streams = new Map<string, BankAccountEvent[]>();
    for (const accountId of ACCOUNTS) streams.set(accountId, await eventsOf(store, accountId));
    const stateAt = (accountId: string, version: number): BankAccountState =>
      (streams.get(accountId) ?? []).slice(0, version).reduce(bankAccount.evolve, bankAccount.initialState);
    let refusals = 0;
    for (const { command, headAtStart, outcome } of decisions) {
      const history = streams.get(command.data.accountId) ?? [];
      if (outcome.status === 'accepted') {
        // Appended where it was decided, and decided on the stream as it stood there.
        expect(history.slice(outcome.expectedVersion, outcome.lastVersion)).toEqual(outcome.events);
        expect(bankAccount.decide(command, stateAt(command.data.accountId, outcome.expectedVersion))).toEqual({ accepted: true, events: outcome.events });
      } else if (outcome.status === 'already-recorded') {
        // The same opening sent again: its events are where it recorded them the first time.
        expect(history.slice(outcome.lastVersion - outcome.events.length, outcome.lastVersion)).toEqual(outcome.events);
      } else {
        refusals++;
        // Never decided on a state older than the stream was when the command arrived.
        expect(outcome.version, JSON.stringify(command)).toBeGreaterThanOrEqual(headAtStart);
        expect(bankAccount.decide(command, stateAt(command.data.accountId, outcome.version))).toEqual({ accepted: false, rejection: outcome.rejection });
      }
    }
    // The scenario is worth running only if it exercises both kinds of answer.
    expect(refusals).toBeGreaterThan(0);
    expect(refusals).toBeLessThan(decisions.length);
  });

  it('spends no retry on a remembered state that another writer moved on', async () => {
    const store = new InMemoryEventStore();
    // One attempt in all: a handler that counted its stale cache as a lost race would give up.
    const cached = handler(store, true, { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 });
    const other = handler(store, false);
    await cached({ type: 'OpenAccount', data: { accountId: 'a', customerId: 'c-1', accountType: 'Checking', initialBalanceCents: 0 } });
    await other({ type: 'DepositMoney', data: { accountId: 'a', transactionId: 'tx-1', amountCents: 5_00, description: 'elsewhere' } });
    const outcome = await cached({ type: 'DepositMoney', data: { accountId: 'a', transactionId: 'tx-2', amountCents: 1_00, description: 'here' } });
    expect(outcome).toMatchObject({ status: 'accepted', expectedVersion: 2, lastVersion: 3, attempts: 1 });
  });

  it('forgets the least recently used stream first', () => {
    const cache = new StateCache<string>(2);
    cache.remember('a', { state: 'A', version: 1 });
    cache.remember('b', { state: 'B', version: 1 });
    cache.get('a');
    cache.remember('c', { state: 'C', version: 1 });
    expect([cache.get('a')?.state, cache.get('b')?.state, cache.get('c')?.state]).toEqual(['A', undefined, 'C']);
    expect(cache.size).toBe(2);
  });
});

// ---- fixtures -------------------------------------------------------------------------

function handler(
  store: EventStore,
  withCache: boolean,
  retry: RetryPolicy = { maxAttempts: 50, baseDelayMs: 0, maxDelayMs: 0 },
): CommandHandler<BankAccountCommand, BankAccountEvent, BankAccountRejection> {
  return createCommandHandler({
    store,
    tenantId: 'tenant-1',
    decider: bankAccount,
    streamOf: (command: BankAccountCommand) => accountStream(command.data.accountId),
    encode,
    decode,
    commandIdOf,
    isRecordedBy,
    now: () => 0,
    retry,
    ...(withCache ? { cache: new StateCache<BankAccountState>(16) } : {}),
  });
}

/** What a caller learns of a decision: everything but the bookkeeping of how it was reached. */
function decisionOf(outcome: CommandOutcome<BankAccountEvent, BankAccountRejection>): unknown {
  return outcome.status === 'rejected'
    ? { status: outcome.status, rejection: outcome.rejection, version: outcome.version }
    : { status: outcome.status, events: outcome.events, lastVersion: outcome.lastVersion };
}

function randomCommand(random: () => number, step: number): BankAccountCommand {
  const accountId = ACCOUNTS[Math.floor(random() * ACCOUNTS.length)]!;
  const roll = random();
  if (roll < 0.15) {
    const initialBalanceCents = Math.floor(random() * 1_000) - 100;
    return { type: 'OpenAccount', data: { accountId, customerId: 'c-1', accountType: 'Checking', initialBalanceCents } };
  }
  const money = { accountId, transactionId: `tx-${step}`, description: `step ${step}` };
  if (roll < 0.55) return { type: 'DepositMoney', data: { ...money, amountCents: Math.floor(random() * 600) } };
  if (roll < 0.97) return { type: 'WithdrawMoney', data: { ...money, amountCents: 1 + Math.floor(random() * 900) } };
  return { type: 'CloseAccount', data: { accountId, closeId: `close-${step}`, reason: `step ${step}` } };
}

async function eventsOf(store: EventStore, accountId: string): Promise<BankAccountEvent[]> {
  return (await readWholeStream(store, { tenantId: 'tenant-1', aggregateId: accountId })).map(decode);
}

async function headOf(store: EventStore, accountId: string): Promise<number> {
  const page = await store.readStream({ tenantId: 'tenant-1', aggregateId: accountId, fromVersion: 0, maxCount: 1, direction: 'backward' });
  return page.events[0]?.version ?? 0;
}

/** The store, each call of it answered after a random short pause, so handlers interleave. */
function jitteryStore(store: EventStore, random: () => number): EventStore {
  const pause = (): Promise<void> => new Promise((resolve) => (random() < 0.5 ? setImmediate(resolve) : setTimeout(resolve, random() * 2)));
  return {
    append: async (request) => (await pause(), store.append(request)),
    readStream: async (request) => {
      await pause();
      const page = await store.readStream(request);
      await pause();
      return page;
    },
    subscribe: (request) => store.subscribe(request),
    close: () => store.close(),
  };
}

function seeds(count: number): number[] {
  return Array.from({ length: count }, (_, index) => 1_000 + index);
}
