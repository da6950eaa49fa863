// `portfolio CUSTOMER` at the command line, a child process against a real event store
// server: the read model added after the others answers from the same log, as text, as JSON,
// as it stood earlier (--as-of), traced, exits 2 for a customer it has never seen, and
// `rebuild` replays and compares it with the others.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../support/child-process.ts';
import type { Finished } from '../support/child-process.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

/** As in cli.e2e.test.ts: each run's share of a test's time, and one run's own deadline. */
const PER_RUN_MS = 10_000;
const RUN_DEADLINE_MS = 45_000;
function forRuns(runs: number): number {
  return runs * PER_RUN_MS + RUN_DEADLINE_MS;
}

let server: ServerProcess | undefined;
const tenant = `cli-portfolio-${randomUUID()}`;

beforeAll(async () => {
  server = await startServerProcess({ BACKEND: 'memory' });
  // One process writes the whole history: Alice opens two accounts and closes one, Bob one.
  const input = [
    'open --customer alice --type Checking --initial 100 --id p-a1',
    'open --customer alice --type Savings --initial 50 --id p-a2',
    'open --customer bob --type Checking --initial 10 --id p-b1',
    'deposit p-a1 20',
    'withdraw p-a1 5',
    'close p-a2',
    'exit',
  ].join('\n');
  const written = await cli('shell', { input });
  expect(written.stderr).toBe('');
  expect(written.code, written.stdout).toBe(0);
}, forRuns(1));
afterAll(async () => {
  await server?.stop('SIGKILL');
});

describe('portfolio CUSTOMER', () => {
  it('shows the accounts, the total of the open ones and the money in and out, and traces the query', async () => {
    const result = await cli('--trace', 'portfolio', 'alice');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/query\s+GetCustomerPortfolio\(alice\) from CustomerPortfolio → 2 account\(s\), total balance 115\.00/);
    const shown = result.stdout.slice(result.stdout.indexOf('Portfolio of alice'));
    expect(shown.split('\n').map((line) => line.trimEnd())).toEqual([
      'Portfolio of alice (read model at position 6)',
      '  p-a1  Checking        115.00  Open',
      '  p-a2  Savings          50.00  Closed',
      '  accounts       2 (1 open)',
      '  total balance  115.00 (of the open accounts)',
      '  money in       170.00 (initial balances and deposits)',
      '  money out      55.00 (withdrawals 5.00, paid out at closing 50.00)',
      expect.stringMatching(/^ {2}last activity {2}\d{4}-\d\d-\d\dT[\d:.]+Z$/),
      '',
    ]);
  }, forRuns(1));

  it('prints JSON with every amount in cents and in dollars', async () => {
    const result = await cli('portfolio', 'bob', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      customerId: 'bob',
      accounts: [{ accountId: 'p-b1', accountType: 'Checking', status: 'Open', balanceCents: 1000, balance: '10.00' }],
      accountCount: 1,
      totalBalanceCents: 1000,
      totalBalance: '10.00',
      moneyInCents: 1000,
      moneyIn: '10.00',
      moneyOutCents: 0,
      moneyOut: '0.00',
      withdrawnCents: 0,
      withdrawn: '0.00',
      paidOutAtClosingCents: 0,
      paidOutAtClosing: '0.00',
      lastActivity: expect.stringMatching(/Z$/),
      position: 6,
    });
  }, forRuns(1));

  it('answers as it stood at an earlier log position', async () => {
    const result = await cli('portfolio', 'alice', '--as-of', '2', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ accountCount: 2, totalBalanceCents: 150_00, moneyInCents: 150_00, moneyOutCents: 0, position: 2 });
  }, forRuns(1));

  it.each<[string, string[], RegExp]>([
    ['a customer it has never seen', ['portfolio', 'nobody'], /^error: unknown customer nobody: no account was ever opened for them \(read model at position 6\)\n$/],
    ['a customer before their first account', ['portfolio', 'bob', '--as-of', '2'], /^error: customer bob had no account yet as of position 2: the first was opened later/],
  ])('exits 2 for %s, saying so, and prints nothing on stdout', async (_, args, message) => {
    const result = await cli(...args);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  }, forRuns(1));
});

describe('rebuild', () => {
  it('replays CustomerPortfolio with the other read models and finds it equal to the live one', async () => {
    const result = await cli('rebuild');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('✓ AccountSummary, TransactionHistory and CustomerPortfolio equal the live read models.');
  }, forRuns(1));
});

// ---- fixtures -------------------------------------------------------------------------

function cli(...args: Array<string | { input: string }>): Promise<Finished> {
  if (server === undefined) throw new Error('the server did not start');
  const words = args.filter((arg): arg is string => typeof arg === 'string');
  const input = args.find((arg): arg is { input: string } => typeof arg !== 'string')?.input;
  return run(process.execPath, ['--import', 'tsx', 'src/main.ts', '--addr', server.address, '--tenant', tenant, ...words], {
    timeoutMs: RUN_DEADLINE_MS,
    ...(input === undefined ? {} : { input }),
  });
}
