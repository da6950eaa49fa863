// The exit codes `--help` promises when the event store misbehaves, each staged by a server
// on loopback over a memory store that fails one way on purpose, and the CLI run against it.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { accountStream, encode } from '../../src/domain/bank-account-codec.ts';
import type { BankAccountEvent } from '../../src/domain/bank-account.ts';
import type { EventStore, SubscribeRequest, SubscriptionMessage } from '../../src/event-store/event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { buildServer } from '../../src/server/build-server.ts';
import { run } from '../support/child-process.ts';
import type { Finished } from '../support/child-process.ts';
import { withSubscribe } from '../support/stores.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';

/** A CLI run starts tsx, connects and may wait out a 5 s stall: slow on a loaded machine. */
const CLI_TEST_TIMEOUT_MS = 90_000;

describe('an event store that goes away in the middle of a write', () => {
  const memory = new InMemoryEventStore();
  const tenant = newTenant();
  beforeAll(() => memory.append(opening(tenant, 'acc-1')));
  afterAll(() => memory.close());

  it.each<[string, Vanishing]>([
    ['the connection drops, as when the server process dies', 'connection dropped'],
    ['the server forces itself down, as its shutdown does once the grace period is over', 'forced shutdown'],
  ])('exits 3 and says whether the deposit was recorded is unknown when %s', async (_, how) => {
    const server = await serveVanishingOnAppend(memory, how);
    try {
      const result = await cli(server.address, tenant, 'deposit', 'acc-1', '5');
      expect(result.code, result.stdout + result.stderr).toBe(3);
      expect(result.stderr).toContain('the event store cannot be reached');
      expect(result.stderr).toContain('whether the append was recorded is unknown');
      expect(result.stdout).not.toContain('✓');
      expect(server.appendsArrived()).toBe(1); // reached, then lost mid-write
    } finally {
      await server.stop();
    }
  }, CLI_TEST_TIMEOUT_MS);
});

describe('an event store that fails in a way nobody expected', () => {
  const memory = new InMemoryEventStore();
  const tenant = newTenant();
  let server: LoopbackServer | undefined;

  beforeAll(async () => {
    await memory.append(opening(tenant, 'acc-1'));
    const backend: EventStore = {
      ...delegatingTo(memory),
      readStream: () => Promise.reject(new Error('secret internal detail: disk on fire')),
    };
    server = await serveOnLoopback(backend);
  });
  afterAll(async () => {
    await server?.stop();
    await memory.close();
  });

  it.each([
    ['a deposit', ['deposit', 'acc-1', '5']],
    ['a read of the log', ['events', 'acc-1']],
  ])('exits 4 on %s and points to --debug, without the server\'s internals', async (_, args) => {
    const result = await cli(serverAddress(server), tenant, ...args);
    expect(result.code, result.stdout + result.stderr).toBe(4);
    expect(result.stderr).toContain('(--debug shows the stack trace)');
    expect(result.stdout + result.stderr).not.toContain('secret internal detail');
    expect(server?.log.join('\n')).toContain('secret internal detail: disk on fire');
  }, CLI_TEST_TIMEOUT_MS);
});

describe('a write whose read models cannot catch up', () => {
  const memory = new InMemoryEventStore();
  const tenant = newTenant();
  let server: LoopbackServer | undefined;

  beforeAll(async () => {
    await memory.append(opening(tenant, 'acc-1'));
    // Appends and reads work; every subscription says it is caught up, then sends nothing.
    server = await serveOnLoopback(withSubscribe(memory, silentAfterCatchUp));
  });
  afterAll(async () => {
    await server?.stop();
    await memory.close();
  });

  it('exits 0 with the event recorded and a warning, so nobody deposits twice', async () => {
    const result = await cli(serverAddress(server), tenant, 'deposit', 'acc-1', '5');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/✓ MoneyDeposited \(5\.00, balance after 15\.00\) \(stream version 2, log position 2\)/);
    expect(result.stderr).toContain('warning: recorded, but the read models cannot show it yet');
    const log = await readWholeStream(memory, { tenantId: tenant, aggregateId: 'acc-1' });
    expect(log.map((event) => event.eventType)).toEqual(['AccountOpened', 'MoneyDeposited']);
  }, CLI_TEST_TIMEOUT_MS);
});

describe('a rebuild that does not come out equal to the live read models', () => {
  const memory = new InMemoryEventStore();
  const tenant = newTenant();
  let server: LoopbackServer | undefined;
  let subscriptions = 0;

  beforeAll(async () => {
    await memory.append(opening(tenant, 'acc-1', [deposit('acc-1', 500, 1500), deposit('acc-1', 700, 2200)]));
    // The first subscription is the live projector's and sees the whole log; every later
    // one (the rebuild's replay) is missing the first deposit.
    server = await serveOnLoopback(withSubscribe(memory, (request) => {
      subscriptions++;
      return subscriptions === 1 ? memory.subscribe(request) : withoutFirstDeposit(memory.subscribe(request));
    }));
  });
  afterAll(async () => {
    await server?.stop();
    await memory.close();
  });

  it('says they differ and exits 4', async () => {
    const result = await cli(serverAddress(server), tenant, 'rebuild');
    expect(result.code, result.stdout + result.stderr).toBe(4);
    expect(result.stdout).toContain('The rebuilt read models differ from the live ones.');
    expect(result.stdout).not.toContain('equal the live read models');
    expect(subscriptions).toBe(2);
  }, CLI_TEST_TIMEOUT_MS);
});

// ---- fixtures -------------------------------------------------------------------------

function newTenant(): string {
  return `cli-failures-${randomUUID()}`;
}

function cli(address: string, tenant: string, ...args: string[]): Promise<Finished> {
  return run(process.execPath, ['--import', 'tsx', 'src/main.ts', '--addr', address, '--tenant', tenant, ...args], { timeoutMs: 60_000 });
}

type Vanishing = 'connection dropped' | 'forced shutdown';

/**
 * A server over `memory` whose append takes it away and never answers: the connection is
 * cut under the client and new ones refused, or the server is forced down with the call
 * in flight. Either way the client cannot know whether the events were stored.
 */
async function serveVanishingOnAppend(memory: EventStore, how: Vanishing) {
  let appendsArrived = 0;
  const backend: EventStore = {
    ...delegatingTo(memory),
    append: () => {
      appendsArrived++;
      vanish();
      return new Promise(() => {});
    },
  };
  const served = buildServer(backend, { log: () => {}, shutdownGraceMs: 2_000 });
  const port = await served.listen('127.0.0.1:0');
  const proxy = how === 'connection dropped' ? await startTcpProxy({ host: '127.0.0.1', port }) : undefined;
  const vanish = (): void => {
    if (proxy === undefined) return served.server.forceShutdown();
    proxy.refuse(true);
    proxy.cut();
  };
  return {
    address: proxy?.address ?? `127.0.0.1:${port}`,
    appendsArrived: () => appendsArrived,
    stop: async () => {
      await proxy?.close();
      await served.shutdown();
    },
  };
}

function serverAddress(server: LoopbackServer | undefined): string {
  if (server === undefined) throw new Error('the server did not start');
  return server.address;
}

/** The memory store's methods, for a backend to replace one of them. */
function delegatingTo(store: EventStore): EventStore {
  return withSubscribe(store, (request) => store.subscribe(request));
}

/** An append request that opens the account (balance 10.00), with these events after it. */
function opening(tenantId: string, accountId: string, then: BankAccountEvent[] = []) {
  const events: BankAccountEvent[] = [
    { type: 'AccountOpened', data: { accountId, customerId: 'erin', accountType: 'Checking', initialBalanceCents: 1000 } },
    ...then,
  ];
  return { tenantId, stream: accountStream(accountId), expectedVersion: 0, events: events.map((event) => ({ ...encode(event), eventId: uuidv7() })) };
}

function deposit(accountId: string, amountCents: number, balanceAfterCents: number): BankAccountEvent {
  return { type: 'MoneyDeposited', data: { accountId, transactionId: uuidv7(), amountCents, description: 'pay', balanceAfterCents } };
}

/** Caught up at once, then silent until the subscriber or the server ends it. */
async function* silentAfterCatchUp(request: SubscribeRequest): AsyncIterable<SubscriptionMessage> {
  yield { kind: 'caught-up' };
  await new Promise<void>((resolve) => {
    if (request.signal?.aborted === true) resolve();
    request.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

async function* withoutFirstDeposit(messages: AsyncIterable<SubscriptionMessage>): AsyncIterable<SubscriptionMessage> {
  let skipped = false;
  for await (const message of messages) {
    if (!skipped && message.kind === 'event' && message.event.eventType === 'MoneyDeposited') {
      skipped = true;
      continue;
    }
    yield message;
  }
}
