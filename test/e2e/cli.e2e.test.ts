// The CLI as people use it: each subcommand a child process against a real event store
// server (memory backend), checked by exit code and output, and the log checked to hold
// nothing that a refused or malformed command might have written.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { run, PROJECT_ROOT } from '../support/child-process.ts';
import type { Finished } from '../support/child-process.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';
import { until } from '../support/until.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { accountStream, encode } from '../../src/domain/bank-account-codec.ts';
import type { BankAccountEvent } from '../../src/domain/bank-account.ts';

/**
 * Each CLI run starts Node and tsx, connects and answers: a second or two alone, several
 * times that with both cores busy. A test's time is this much per run it makes, plus one
 * run's own deadline, so a loaded machine slows a test without failing it, while a run
 * that hangs is still cut off by that deadline and reported with its output.
 */
const PER_RUN_MS = 10_000;
const RUN_DEADLINE_MS = 45_000;
function forRuns(runs: number): number {
  return runs * PER_RUN_MS + RUN_DEADLINE_MS;
}

let server: ServerProcess | undefined;

beforeAll(async () => {
  server = await startServerProcess({ BACKEND: 'memory' });
});
afterAll(async () => {
  await server?.stop('SIGKILL');
});

describe('a session at the command line', () => {
  const tenant = newTenant();

  it('opens, deposits, is refused, reads, travels in time and closes', async () => {
    const opened = await cli(tenant, 'open', '--customer', 'alice', '--type', 'Checking', '--initial', '100.00', '--id', 'acc-1');
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toContain('AccountOpened (Checking for alice, 100.00)');
    expect(opened.stdout).toContain('acc-1: balance 100.00 · Open');

    const deposited = await cli(tenant, 'deposit', 'acc-1', '25.50', '--description', 'Birthday money');
    expect(deposited.code, deposited.stderr).toBe(0);
    expect(deposited.stdout).toContain('MoneyDeposited (25.50, balance after 125.50)');

    const refused = await cli(tenant, 'withdraw', 'acc-1', '500');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Insufficient funds: balance 125.50, asked 500.00');
    const log = await eventsJson(tenant, 'acc-1');
    expect(log.map((event) => event.eventType)).toEqual(['AccountOpened', 'MoneyDeposited']);

    const summary = await cli(tenant, 'summary', 'acc-1');
    expect(summary.code).toBe(0);
    expect(summary.stdout).toMatch(/balance\s+125\.50/);
    expect(summary.stdout).toMatch(/transactions\s+1/);

    const history = await cli(tenant, 'history', 'acc-1');
    expect(history.stdout).toMatch(/Deposit\s+\+25\.50\s+balance\s+125\.50\s+Birthday money/);

    const [openedEvent, depositEvent] = log as [LoggedEvent, LoggedEvent];
    const before = await cli(tenant, 'summary', 'acc-1', '--as-of', String(openedEvent.globalPosition));
    expect(before.stdout).toMatch(/balance\s+100\.00/);
    const after = await cli(tenant, 'summary', 'acc-1', '--as-of', String(depositEvent.globalPosition));
    expect(after.stdout).toMatch(/balance\s+125\.50/);
    const historyBefore = await cli(tenant, 'history', 'acc-1', '--as-of', openedEvent.recordedAt, '--json');
    expect(JSON.parse(historyBefore.stdout).transactions).toEqual([]);

    const accounts = await cli(tenant, 'accounts', '--customer', 'alice', '--json');
    expect(JSON.parse(accounts.stdout).accounts).toEqual([
      expect.objectContaining({ accountId: 'acc-1', balanceCents: 12550, balance: '125.50', status: 'Open', transactionCount: 1 }),
    ]);
    const historyJson = JSON.parse((await cli(tenant, 'history', 'acc-1', '--json')).stdout);
    expect(historyJson.transactions[0]).toMatchObject({ type: 'Deposit', amountCents: 2550, amount: '25.50', balanceAfter: '125.50' });

    const closed = await cli(tenant, 'close', 'acc-1', '--reason', 'Moving banks');
    expect(closed.code).toBe(0);
    expect(closed.stdout).toContain('AccountClosed (final balance 125.50)');
    expect((await cli(tenant, 'summary', 'acc-1')).stdout).toMatch(/status\s+Closed/);
    const afterClose = await cli(tenant, 'deposit', 'acc-1', '1');
    expect(afterClose.code).toBe(1);
    expect(afterClose.stderr).toContain('Account is closed: acc-1');

    const events = await cli(tenant, 'events');
    expect(events.code).toBe(0);
    expect(events.stdout.trim().split('\n').map((line) => line.split(/\s+/)[1])).toEqual(['AccountOpened', 'MoneyDeposited', 'AccountClosed']);
  }, forRuns(15));

  it('prints the CQRS path of a command with --trace', async () => {
    await cli(tenant, 'open', '--customer', 'bob', '--type', 'Savings', '--initial', '10', '--id', 'acc-2');
    const traced = await cli(tenant, '--trace', 'deposit', 'acc-2', '5');
    expect(traced.code).toBe(0);
    const lines = traced.stdout.split('\n');
    expect(lines[0]).toMatch(/DepositMoney acc-2: 5\.00$/); // no description: nothing, not 
    expect(traced.stdout).toContain('read stream BankAccount/acc-2: 1 event, at version 1');
    expect(traced.stdout).toContain('decide → MoneyDeposited (5.00, balance after 15.00)');
    expect(traced.stdout).toMatch(/append with expected version 1 → version 2, global position \d+/);
    expect(traced.stdout).toMatch(/projector: AccountSummary reached position \d+/);
    expect(traced.stdout).not.toContain('TransactionHistory'); // a write command loads AccountSummary alone
    expect(traced.stdout).toMatch(/query\s+GetAccountSummary\(acc-2\) from AccountSummary at position \d+ → balance 15\.00, Open/);
  }, forRuns(2));
});

describe('bad input', () => {
  const tenant = newTenant();
  let logBefore: LoggedEvent[] = [];

  beforeAll(async () => {
    await cli(tenant, 'open', '--customer', 'alice', '--type', 'Checking', '--initial', '10', '--id', 'acc-1');
    logBefore = await eventsJson(tenant);
    expect(logBefore).toHaveLength(1);
  }, forRuns(2));

  it.each<[string, string[], number, RegExp]>([
    ['three decimals', ['deposit', 'acc-1', '12.345'], 2, /"12\.345" is not a valid amount: use at most two decimals/],
    ['a negative amount', ['deposit', 'acc-1', '-5'], 2, /"-5" is not an amount: amounts have no sign; to take money out, use withdraw/],
    ['a negative initial balance', ['open', '--customer', 'x', '--type', 'Checking', '--initial', '-5'], 2, /"-5" is not an amount: amounts have no sign, and an account opens with 0 or more/],
    ['an exponent', ['deposit', 'acc-1', '1e3'], 2, /"1e3" is not a valid amount/],
    ['letters for an amount', ['withdraw', 'acc-1', 'abc'], 2, /"abc" is not a valid amount/],
    ['a missing amount', ['deposit', 'acc-1'], 2, /deposit needs ACCOUNT and AMOUNT/],
    ['an unknown account', ['deposit', 'nobody', '5'], 2, /^error: unknown account nobody: open it first, or check the id$/m],
    ['a malformed account id', ['deposit', 'bad id!', '5'], 2, /"bad id!" is not an account id/],
    ['a zero withdrawal', ['withdraw', 'acc-1', '0'], 1, /Amount must be more than 0\.00/],
    ['an open without --initial', ['open', '--customer', 'x', '--type', 'Checking'], 2, /open needs --initial/],
    ['an id already taken', ['open', '--customer', 'x', '--type', 'Checking', '--initial', '5', '--id', 'acc-1'], 1, /Account already exists: acc-1/],
    ['a summary of nobody', ['summary', 'nobody'], 2, /unknown account nobody/],
    ['an --as-of that is neither', ['summary', 'acc-1', '--as-of', 'yesterday'], 2, /--as-of takes a log position .* or an ISO 8601 time/],
    ['an --as-of time without a zone', ['summary', 'acc-1', '--as-of', '2026-11-30T03:37'], 2, /--as-of 2026-11-30T03:37 has no time zone, .* write 2026-11-30T03:37Z for UTC/],
    ['an --as-of before the account was opened', ['history', 'acc-1', '--as-of', '2000-01-01T00:00:00Z'], 2, /account acc-1 did not exist yet as of 2000-01-01T00:00:00\.000Z: it was opened later, at \d{4}-/],
    ['an unknown command', ['frobnicate'], 2, /unknown command "frobnicate"/],
    ['a mistyped command', ['depost', 'acc-1', '5'], 2, /unknown command "depost"; did you mean deposit\?/],
    ['an unknown option', ['deposit', 'acc-1', '5', '--colour'], 2, /unknown option --colour/],
    ['a shortened option', ['deposit', 'acc-1', '5', '--desc', 'x'], 2, /unknown option --desc; did you mean --description\?/],
    ["another command's option", ['close', 'acc-1', '--customer', 'x'], 2, /close does not take --customer/],
    ['--json on a write', ['deposit', 'acc-1', '5', '--json'], 2, /deposit does not take --json/],
    ['--trace on a command that has no CQRS path to show', ['--trace', 'events'], 2, /events does not take --trace/],
    ['an extra argument', ['close', 'acc-1', 'acc-2'], 2, /unexpected "acc-2"/],
    ['an empty tenant', ['--tenant', '', 'summary', 'acc-1'], 2, /--tenant needs a value/],
  ])('refuses %s', async (_, args, code, message) => {
    const result = await cli(tenant, ...args);
    expect(result.code, result.stdout + result.stderr).toBe(code);
    expect(result.stderr).toMatch(message);
    // `refused:` is the word for a business rule (exit 1); parseArgs's own words never show.
    if (code === 2) expect(result.stderr).not.toMatch(/^refused:/m);
    expect(result.stderr).not.toMatch(/ambiguous|place it at the end/);
  }, forRuns(1));

  it('wrote nothing for any of them', async () => {
    expect(await eventsJson(tenant)).toEqual(logBefore);
  }, forRuns(1));

  it('counts one event as "1 event" when rebuilding', async () => {
    const result = await cli(tenant, 'rebuild');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Rebuilt the read models from 1 event, up to log position \d+,/m);
  }, forRuns(1));

  it('says how to start the server when none answers, and exits 3', async () => {
    const result = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', '--addr', '127.0.0.1:1', 'summary', 'acc-1'], { timeoutMs: RUN_DEADLINE_MS });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('pnpm event-store');
    expect(result.stderr).toContain('--memory');
  }, forRuns(1));
});

describe('a store chosen wrongly', () => {
  it.each<[string, string[], NodeJS.ProcessEnv, RegExp]>([
    ['a URL for --addr', ['--addr', 'http://127.0.0.1:50051', 'summary', 'acc-1'], {}, /--addr takes HOST:PORT, like 127\.0\.0\.1:50051, not "http:\/\/127\.0\.0\.1:50051"/],
    ['a port alone for --addr', ['--addr', '50051', 'summary', 'acc-1'], {}, /--addr takes HOST:PORT, like 127\.0\.0\.1:50051, not "50051"/],
    ['a port alone in EVENT_STORE_ADDR', ['summary', 'acc-1'], { EVENT_STORE_ADDR: '50051' }, /EVENT_STORE_ADDR takes HOST:PORT, like 127\.0\.0\.1:50051, not "50051"/],
    ['an EVENT_STORE_MODE it does not know', ['summary', 'acc-1'], { EVENT_STORE_MODE: 'Memory' }, /EVENT_STORE_MODE is "Memory"; it takes memory or grpc/],
    ['watch of a store in this process', ['--memory', 'watch'], {}, /watch follows what other processes append, but with --memory the store lives inside this process[\s\S]*--memory shell/],
  ])('refuses %s with exit 2 before connecting', async (_, args, env, message) => {
    const result = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env, timeoutMs: RUN_DEADLINE_MS });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  }, forRuns(1));
});

describe('rebuild, watch and shell', () => {
  it('rebuilds read models from a log of 100 000 events that equal the live ones and the log as written', async () => {
    const tenant = newTenant();
    const store = await GrpcEventStore.connect({ address: address() });
    try {
      for (let account = 0; account < 1_000; account++) {
        const events = accountHistory(`acc-${account}`, 100);
        await store.append({ tenantId: tenant, stream: accountStream(`acc-${account}`), expectedVersion: 0, events });
      }
    } finally {
      await store.close();
    }
    const plain = await cli(tenant, 'rebuild');
    expect(plain.code, plain.stderr).toBe(0);
    const rebuilt = /Rebuilt the read models from 100000 events, up to log position (\d+), in [\d.]+ s \(\d+ events\/s\)\./.exec(plain.stdout);
    expect(rebuilt, plain.stdout).not.toBeNull();
    expect(plain.stdout).toContain('equal the live read models');
    expect(plain.stdout).not.toContain('replaying ['); // no progress bar when not on a terminal

    // Live and rebuilt come from the same code and could share a mistake, so the answers
    // are also checked against what the log written above must give, worked out by hand.
    const head = Number(rebuilt?.[1]);
    // Four readers at once, since each may replay the whole log before it answers.
    const [accounts, summary, history, portfolio] = (await Promise.all([
      cli(tenant, 'accounts', '--customer', 'bulk', '--json'),
      cli(tenant, 'summary', 'acc-999', '--json'),
      cli(tenant, 'history', 'acc-500', '--json'),
      cli(tenant, 'portfolio', 'bulk', '--json'),
    ])).map((result) => {
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout);
    });
    expect(accounts).toMatchObject({ customerId: 'bulk', position: head });
    expect(accounts.accounts).toHaveLength(1_000);
    expect(accounts.accounts).toEqual(Array.from({ length: 1_000 }, (_, account) => bulkAccountSummary(`acc-${account}`)));
    expect(summary).toEqual({ ...bulkAccountSummary('acc-999'), position: head });
    expect(summary.lastActivity).toBe(summary.openedAt); // all 100 events were stored by one append, at one time

    expect(portfolio).toMatchObject({
      customerId: 'bulk',
      accountCount: 1_000,
      totalBalanceCents: 1_000 * 9_900,
      moneyInCents: 1_000 * 9_900,
      moneyOutCents: 0,
      position: head,
    });
    expect(portfolio.accounts[999]).toEqual({ accountId: 'acc-999', accountType: 'Checking', status: 'Open', balanceCents: 9_900, balance: '99.00' });

    const openedAt: unknown = accounts.accounts[500].openedAt;
    expect(history).toEqual({
      accountId: 'acc-500',
      position: head,
      transactions: Array.from({ length: 99 }, (_, index) => ({
        transactionId: `acc-500-deposit-${index + 1}`,
        type: 'Deposit',
        amountCents: 100,
        amount: '1.00',
        description: 'bulk',
        timestamp: openedAt,
        balanceAfterCents: (index + 1) * 100,
        balanceAfter: `${index + 1}.00`,
      })),
    });
  }, forRuns(5) + 120_000); // and 1 000 appends of 100 events, and replays of 100 000 events

  it('watch shows an event appended by another process, and the change it made', async () => {
    const tenant = newTenant();
    await cli(tenant, 'open', '--customer', 'carol', '--type', 'Checking', '--initial', '10', '--id', 'acc-w');
    const watcher = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--addr', address(), '--tenant', tenant, 'watch'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    watcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    watcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => watcher.once('exit', (code) => resolve(code)));
    try {
      await until(() => output.includes('watching tenant'), () => output, RUN_DEADLINE_MS);
      expect(output).not.toContain('AccountOpened'); // history is not replayed on screen
      const deposit = await cli(tenant, 'deposit', 'acc-w', '2.50', '--description', 'Coffee refund');
      expect(deposit.code).toBe(0);
      await until(() => output.includes('CustomerPortfolio'), () => output, RUN_DEADLINE_MS);
      expect(output).toMatch(/MoneyDeposited\s+BankAccount\/acc-w v2/);
      expect(output).toContain('AccountSummary      balance 10.00 → 12.50 · transactions 0 → 1');
      expect(output).toContain('TransactionHistory  + Deposit 2.50 "Coffee refund", balance after 12.50');
      expect(output).toContain('CustomerPortfolio   carol: 1 account, total balance 12.50 · in 12.50, out 0.00');
      watcher.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      watcher.kill('SIGKILL');
    }
  }, forRuns(3));

  it('shell keeps one in-memory store for the whole session', async () => {
    const input = [
      'open --customer dana --type Savings --initial 50 --id acc-s',
      'deposit acc-s 5 --description "Pocket money"',
      'withdraw acc-s 100',
      'summary acc-s --json',
      'deposit acc-s "12.345"',
      'exit',
    ].join('\n');
    const result = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', '--memory', 'shell'], { input });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('AccountOpened (Savings for dana, 50.00)');
    expect(result.stdout).toContain('MoneyDeposited (5.00, balance after 55.00)');
    expect(result.stderr).toContain('refused: Insufficient funds: balance 55.00, asked 100.00');
    expect(result.stdout).toContain('(exit code 1)');
    expect(result.stdout).toContain('"balance": "55.00"');
    expect(result.stderr).toContain('use at most two decimals');
    expect(result.stdout).toContain('(exit code 2)');
  }, forRuns(1));
});

// ---- fixtures -------------------------------------------------------------------------

interface LoggedEvent {
  readonly globalPosition: number;
  readonly eventType: string;
  readonly recordedAt: string;
}

function address(): string {
  if (server === undefined) throw new Error('the server did not start');
  return server.address;
}

function newTenant(): string {
  return `cli-${randomUUID()}`;
}

function cli(tenant: string, ...args: string[]): Promise<Finished> {
  return run(process.execPath, ['--import', 'tsx', 'src/main.ts', '--addr', address(), '--tenant', tenant, ...args], { timeoutMs: RUN_DEADLINE_MS });
}

async function eventsJson(tenant: string, accountId?: string): Promise<LoggedEvent[]> {
  const result = await cli(tenant, 'events', ...(accountId === undefined ? [] : [accountId]), '--json');
  if (result.code !== 0) throw new Error(`events failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as LoggedEvent[];
}

function accountHistory(accountId: string, count: number) {
  const events: BankAccountEvent[] = [
    { type: 'AccountOpened', data: { accountId, customerId: 'bulk', accountType: 'Checking', initialBalanceCents: 0 } },
  ];
  for (let i = 1; i < count; i++) {
    events.push({ type: 'MoneyDeposited', data: { accountId, transactionId: `${accountId}-deposit-${i}`, amountCents: 100, description: 'bulk', balanceAfterCents: i * 100 } });
  }
  return events.map((event) => ({ ...encode(event), eventId: uuidv7() }));
}

/** What AccountSummary must say of an account of `accountHistory(accountId, 100)`. */
function bulkAccountSummary(accountId: string) {
  const isoTime = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  return {
    accountId,
    customerId: 'bulk',
    accountType: 'Checking',
    balanceCents: 9_900,
    balance: '99.00',
    status: 'Open',
    transactionCount: 99,
    openedAt: isoTime,
    lastActivity: isoTime,
  };
}
