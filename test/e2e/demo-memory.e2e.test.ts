// The walkthrough as a newcomer runs it: `pnpm start -- --memory`, one process, no server.
import { describe, expect, it } from 'vitest';
import { run } from '../support/child-process.ts';
import { expectPortfolioBuiltLater } from '../support/walkthrough-steps.ts';

describe('pnpm start -- --memory', () => {
  it('runs the whole walkthrough with the right balances and exits 0', async () => {
    const result = await run('pnpm', ['start', '--', '--memory']);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/Checking\s+balance\s+1300\.00 · 2 transactions · Open/);
    expect(out).toMatch(/\+500\.00\s+Salary deposit\s+balance after 1500\.00/);
    expect(out).toMatch(/-200\.00\s+ATM withdrawal\s+balance after 1300\.00/);
    expect(out).toMatch(/Savings\s+balance\s+6000\.00 · 1 transaction · Open/);
    expect(out).toContain('refused: Insufficient funds: balance 1300.00, asked 5000.00');
    expect(out).toMatch(/Savings\s+balance\s+6000\.00 · 1 transaction · Closed/);
    expect(out).toContain('Read models caught up to log position 5');
    expectStaleReadThenFresh(out);
    // One stored event in full: where it sits, what it is, and its payload as stored.
    expect(out).toMatch(/log position 3 · stream BankAccount\/\S+ · version 2/);
    expect(out).toMatch(/MoneyDeposited \(schema version 1, application\/json\) · recorded \d{4}-\d\d-\d\dT[\d:.]+Z/);
    expect(out).toMatch(/\{"accountId":"[^"]+","transactionId":"[^"]+","amountCents":50000,"description":"Salary deposit","balanceAfterCents":150000\}/);
    expect(out).toContain('AccountClosed records the final balance, 6000.00: the bank is assumed to pay it out');
    // Two write sides race for one account: the loser's append is refused, it reads the
    // winner's event, decides again and is refused by the rule.
    expect(out).toMatch(/teller 1: WithdrawMoney checking, 1000\.00 "Rent"\s+→ MoneyWithdrawn \(stream version 4, log position 6\)/);
    const race = out.slice(out.indexOf('teller 2:'));
    expect(race).toMatch(/decides on the state it remembers, at version 3\n\s+→ MoneyWithdrawn \(500\.00, balance after 800\.00\)\n\s+append refused: expected version 3, the stream is at 4/);
    expect(race).toMatch(/reads the 1 event after version 3 and decides again\n\s+→ refused: Insufficient funds: balance 300\.00, asked 500\.00/);
    expectPortfolioBuiltLater(out, 7);
    expect(out).toContain('they equal the live ones and the portfolio of step 7');
  });

  it('also takes --memory without the separator, and EVENT_STORE_MODE=memory', async () => {
    const direct = await run('pnpm', ['start', '--memory']);
    expect(direct.code).toBe(0);
    expect(direct.stdout).toContain('Event store: in memory');
    const byEnvironment = await run('pnpm', ['start'], { env: { EVENT_STORE_MODE: 'memory' } });
    expect(byEnvironment.code).toBe(0);
    expect(byEnvironment.stdout).toContain('Event store: in memory');
  });

  it('describes its options with --help', async () => {
    const result = await run('pnpm', ['start', '--', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--memory');
    expect(result.stdout).toContain('EVENT_STORE_ADDR');
    // Exactly which commands trace and which print JSON, from the table the parser checks.
    expect(result.stdout).toContain('--trace applies to open, deposit, withdraw, close, summary, history, accounts, portfolio, shell.');
    expect(result.stdout).toContain('--json to summary, history, accounts, portfolio, events, rebuild.');
  });
});

/** Step 2: a query before the read side saw the last deposit, then one after waiting for it. */
function expectStaleReadThenFresh(out: string): void {
  const stale = /GetAccountSummary\(savings\): balance 5000\.00, read models at position (\d+), the log at (\d+)/.exec(out);
  expect(stale, out).not.toBeNull();
  expect(Number(stale?.[1])).toBeLessThan(Number(stale?.[2]));
  expect(out).toMatch(new RegExp(`GetAccountSummary\\(savings\\): balance 6000\\.00, read models at position ${stale?.[2]}\\b`));
}
