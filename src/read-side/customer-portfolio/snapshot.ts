// Read side, checkpoint layer: the CustomerPortfolio read model as plain JSON data, and the
// check that data loaded from disk really is one before the read model is restored from it.

import { fieldsOf, integer, oneOf, rowsByAccount, text, timeMs } from '../plain-data.ts';
import type { Where } from '../plain-data.ts';
import type { PortfolioAccountRow } from './customer-portfolio.ts';

export interface CustomerPortfolioSnapshot {
  /** The global position of the last event the read model took in. */
  readonly position: number;
  /** In the order the accounts were opened, which is each customer's order too. */
  readonly accounts: readonly PortfolioAccountRow[];
}

export function customerPortfolioSnapshotFrom(data: unknown, where: string, maxPosition: number): CustomerPortfolioSnapshot {
  const fields = fieldsOf(data, where);
  const position = integer(fields, 'position', where, 0, maxPosition);
  return { position, accounts: rowsByAccount(fields.accounts, `${where}.accounts`, rowFrom) };
}

function rowFrom(value: unknown, where: Where): PortfolioAccountRow {
  const fields = fieldsOf(value, where);
  return {
    accountId: text(fields, 'accountId', where),
    customerId: text(fields, 'customerId', where),
    accountType: text(fields, 'accountType', where),
    status: oneOf(fields, 'status', where, ['Open', 'Closed'] as const),
    balanceCents: integer(fields, 'balanceCents', where),
    moneyInCents: integer(fields, 'moneyInCents', where, 0),
    withdrawnCents: integer(fields, 'withdrawnCents', where, 0),
    paidOutAtClosingCents: integer(fields, 'paidOutAtClosingCents', where, 0),
    lastActivityMs: timeMs(fields, 'lastActivityMs', where),
  };
}
