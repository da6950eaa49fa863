// Read side, checkpoint layer: the AccountSummary read model as plain JSON data, and the
// check that data loaded from disk really is one before the read model is restored from it.

import { fieldsOf, integer, oneOf, rowsByAccount, text, timeMs } from '../plain-data.ts';
import type { Where } from '../plain-data.ts';
import type { AccountSummaryRow } from './account-summary.ts';

export interface AccountSummarySnapshot {
  /** The global position of the last event the read model took in. */
  readonly position: number;
  /** In the order the accounts were opened. */
  readonly accounts: readonly AccountSummaryRow[];
}

export function accountSummarySnapshotFrom(data: unknown, where: string, maxPosition: number): AccountSummarySnapshot {
  const fields = fieldsOf(data, where);
  const position = integer(fields, 'position', where, 0, maxPosition);
  return { position, accounts: rowsByAccount(fields.accounts, `${where}.accounts`, rowFrom) };
}

function rowFrom(value: unknown, where: Where): AccountSummaryRow {
  const fields = fieldsOf(value, where);
  return {
    accountId: text(fields, 'accountId', where),
    customerId: text(fields, 'customerId', where),
    accountType: text(fields, 'accountType', where),
    balanceCents: integer(fields, 'balanceCents', where),
    status: oneOf(fields, 'status', where, ['Open', 'Closed'] as const),
    transactionCount: integer(fields, 'transactionCount', where, 0),
    openedAtMs: timeMs(fields, 'openedAtMs', where),
    lastActivityMs: timeMs(fields, 'lastActivityMs', where),
  };
}
