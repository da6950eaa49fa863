// Test support: what a step of the walkthrough must show, whichever store it ran against,
// for the end-to-end tests that run it in memory and over gRPC.

import { expect } from 'vitest';

/** Step 7: CustomerPortfolio, not followed while the events were written, built from the log afterwards. */
export function expectPortfolioBuiltLater(out: string, eventsInLog: number): void {
  const step = out.slice(out.indexOf('Step 7 · A view added later'), out.indexOf('Step 8'));
  expect(step, out).toContain("CustomerPortfolio did not exist when these events were written: this run's projector has\n  fed only AccountSummary and TransactionHistory.");
  expect(step).toContain('built\n  by replaying the events already in the log, from position 1.');
  expect(step).toContain(`Replayed ${eventsInLog} events into CustomerPortfolio, up to log position ${eventsInLog}.`);
  expect(step).toMatch(/GetCustomerPortfolio\(customer-\w+\)\n\s+Checking\s+balance\s+300\.00 · Open\n\s+Savings\s+balance\s+6000\.00 · Closed\n/);
  expect(step).toContain('2 accounts, 1 open · total balance 300.00 (open accounts only)');
  expect(step).toMatch(/money in\s+7500\.00 {2}initial balances and deposits/);
  expect(step).toMatch(/money out\s+7200\.00 {2}withdrawals 1200\.00, paid out at closing 6000\.00/);
  expect(step).toContain('in less out: 300.00, the total balance, since closing counts as money out');
}
