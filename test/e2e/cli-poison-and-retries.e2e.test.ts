// Drill at the command line, each command a child process against a server process: a
// foreign client writes events the read side cannot decode, under a stream id built to
// retitle and clear the terminal; the bank's commands go on, warn of the parked events
// (escaped), and the same deposit sent by two runs with one --transaction-id is stored once.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountStream, encode } from '../../src/domain/bank-account-codec.ts';
import type { BankAccountEvent } from '../../src/domain/bank-account.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';
import { run } from '../support/child-process.ts';
import { appendForeign, FOREIGN_REASONS } from '../support/foreign-events.ts';
import type { Finished } from '../support/child-process.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

/** A CLI run is a second or two alone, several times that on a busy machine: see cli.e2e.test.ts. */
const PER_RUN_MS = 10_000;
const RUN_DEADLINE_MS = 45_000;

let server: ServerProcess | undefined;

beforeAll(async () => {
  server = await startServerProcess({ BACKEND: 'memory' });
});
afterAll(async () => {
  await server?.stop('SIGKILL');
});

describe('poison and retries at the command line', () => {
  it('parks foreign events with a warning per run, and records a deposit sent twice once', async () => {
    const tenant = `cli-${randomUUID()}`;
    expect(await cli(tenant, 'open', '--customer', 'ann', '--type', 'Checking', '--initial', '100', '--id', 'acc-1')).toMatchObject({ code: 0 });
    const foreign = await appendForeignEvents(tenant);

    const deposited = await cli(tenant, 'deposit', 'acc-1', '10', '--transaction-id', 'tx-A');
    expect(deposited.code, deposited.stderr).toBe(0);
    expect(deposited.stdout).toContain('MoneyDeposited (10.00, balance after 110.00)');
    expect(deposited.stdout).toContain('Transaction id: tx-A');
    expect(parkedWarnings(deposited)).toEqual(foreign.map((position) => `warning: event at position ${position} (${position === foreign[1] ? 'AccountRenamed v1' : position === foreign[2] ? 'MoneyDeposited v2' : 'MoneyDeposited v1'} in ${HOSTILE_SHOWN}) is parked, skipped by the read models: ${FOREIGN_REASONS[foreign.indexOf(position)]}`));
    expectNothingRaw(deposited);

    // A second run, resumed from the first one's checkpoint: the same deposit, the same warnings.
    const again = await cli(tenant, 'deposit', 'acc-1', '10', '--transaction-id', 'tx-A');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('✓ already recorded, sent before: MoneyDeposited (10.00, balance after 110.00)');
    expect(again.stdout).toContain('nothing appended this time');
    expect(again.stdout).toContain('acc-1: balance 110.00 · Open');
    expect(parkedWarnings(again)).toEqual(parkedWarnings(deposited));

    const otherAmount = await cli(tenant, 'deposit', 'acc-1', '11', '--transaction-id', 'tx-A');
    expect(otherAmount.code).toBe(2);
    expect(otherAmount.stderr).toContain('error: transaction id tx-A was used before by MoneyDeposited at version 2 of acc-1, with other details');

    const events = await cli(tenant, 'events');
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout.split('\n').filter((line) => line.includes('PARKED (the read models skip it)'))).toHaveLength(3);
    expect(events.stdout).toContain(HOSTILE_SHOWN);
    expect(events.stdout.split('\n').filter((line) => line.includes(' MoneyDeposited ') && line.includes('BankAccount/acc-1'))).toHaveLength(1);
    expectNothingRaw(events);
  }, 6 * PER_RUN_MS + RUN_DEADLINE_MS);

  it('after exit 3 (the answer lost once the deposit was stored), a run with the id it printed records it once', async () => {
    const memory = new InMemoryEventStore();
    const tenant = `cli-${randomUUID()}`;
    await memory.append({ tenantId: tenant, stream: accountStream('acc-1'), expectedVersion: 0, events: [{ ...encode(OPENED), eventId: randomUUID() }] });
    // Stores the deposit, then cuts the connection before the answer leaves, and takes no more.
    let proxy: TcpProxy | undefined;
    const losing = await serveOnLoopback({
      append: async (request) => {
        const result = await memory.append(request);
        proxy?.refuse(true);
        proxy?.cut();
        return result;
      },
      readStream: (request) => memory.readStream(request),
      subscribe: (request) => memory.subscribe(request),
      close: () => Promise.resolve(),
    });
    const healthy = await serveOnLoopback(memory);
    try {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: losing.port });
      const lost = await cliAt(proxy.address, tenant, 'deposit', 'acc-1', '7.50');
      expect(lost.code, lost.stdout + lost.stderr).toBe(3);
      const advice = /send the same command again with --transaction-id ([0-9a-f-]{36})/.exec(lost.stderr);
      expect(advice, lost.stderr).not.toBeNull();
      const retried = await cliAt(healthy.address, tenant, 'deposit', 'acc-1', '7.50', '--transaction-id', advice?.[1] ?? '');
      expect(retried.code, retried.stderr).toBe(0);
      expect(retried.stdout).toContain('✓ already recorded, sent before: MoneyDeposited (7.50, balance after 17.50)');
      expect((await readWholeStream(memory, { tenantId: tenant, aggregateId: 'acc-1' })).map((event) => event.eventType)).toEqual(['AccountOpened', 'MoneyDeposited']);
    } finally {
      await proxy?.close();
      await losing.stop();
      await healthy.stop();
    }
  }, 2 * PER_RUN_MS + RUN_DEADLINE_MS);

  it('shows a line break inside stored text as \\n, so another client\'s event cannot fake a line of output', async () => {
    const tenant = `cli-${randomUUID()}`;
    expect(await cli(tenant, 'open', '--customer', 'ann', '--type', 'Checking', '--initial', '100', '--id', 'acc-1')).toMatchObject({ code: 0 });
    const forged = '#99    MoneyDeposited  BankAccount/acc-1 v9  a line the CLI never wrote';
    const deposit: BankAccountEvent = {
      type: 'MoneyDeposited',
      data: { accountId: 'acc-1', transactionId: 'tx-forged', amountCents: 5_00, description: `rent\n${forged}`, balanceAfterCents: 105_00 },
    };
    const store = await GrpcEventStore.connect({ address: address() });
    try {
      await store.append({ tenantId: tenant, stream: accountStream('acc-1'), expectedVersion: 1, events: [{ ...encode(deposit), eventId: randomUUID() }] });
    } finally {
      await store.close();
    }
    for (const args of [['history', 'acc-1'], ['events']]) {
      const shown = await cli(tenant, ...args);
      expect(shown.code, shown.stderr).toBe(0);
      const lines = shown.stdout.split('\n');
      expect(lines.filter((line) => line.includes(forged)), args.join(' ')).not.toHaveLength(0);
      expect(lines.filter((line) => line.startsWith(forged)), args.join(' ')).toEqual([]);
    }
  }, 3 * PER_RUN_MS + RUN_DEADLINE_MS);

  it('shows control characters typed on the command line escaped in its error message', async () => {
    const typed = await cli(`cli-${randomUUID()}`, 'summary', HOSTILE);
    expect(typed.code).toBe(2);
    expect(typed.stderr).toContain(`"${HOSTILE_SHOWN}" is not an account id`);
    expectNothingRaw(typed);
  }, PER_RUN_MS + RUN_DEADLINE_MS);
});

// ---- fixtures -------------------------------------------------------------------------

/** An aggregate id that, printed raw, retitles the terminal and clears it. */
const HOSTILE = 'evil\u001b]0;PWNED\u0007\u001b[2J';
const HOSTILE_SHOWN = 'evil\\e]0;PWNED\\u0007\\e[2J';

function cli(tenant: string, ...args: string[]): Promise<Finished> {
  return cliAt(address(), tenant, ...args);
}

function cliAt(serverAddress: string, tenant: string, ...args: string[]): Promise<Finished> {
  return run(process.execPath, ['--import', 'tsx', 'src/main.ts', '--addr', serverAddress, '--tenant', tenant, ...args], { timeoutMs: RUN_DEADLINE_MS });
}

const OPENED: BankAccountEvent = { type: 'AccountOpened', data: { accountId: 'acc-1', customerId: 'ann', accountType: 'Checking', initialBalanceCents: 10_00 } };

function address(): string {
  if (server === undefined) throw new Error('the server did not start');
  return server.address;
}

/** A client that is not the bank writes the three events to a stream of the bank's type; their positions. */
async function appendForeignEvents(tenantId: string): Promise<number[]> {
  const store = await GrpcEventStore.connect({ address: address() });
  try {
    return await appendForeign(store, { tenantId, aggregateId: HOSTILE, expectedVersion: 0 });
  } finally {
    await store.close();
  }
}

function parkedWarnings(result: Finished): string[] {
  return result.stderr.split('\n').filter((line) => line.includes('is parked'));
}

/** Not one ESC, BEL or C1 control reaches the terminal, on either stream. */
function expectNothingRaw(result: Finished): void {
  expect(result.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  expect(result.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
}
