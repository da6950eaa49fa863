// Read side, checkpoint layer: the TransactionHistory read model as plain JSON data, and
// the check that data loaded from disk really is one before the read model is restored.

import { fieldsOf, integer, listOf, oneOf, placed, rowsByAccount, text, timeMs } from '../plain-data.ts';
import type { Where } from '../plain-data.ts';
import type { TransactionRow } from './transaction-history.ts';

export interface TransactionHistorySnapshot {
  /** The global position of the last event the read model took in. */
  readonly position: number;
  readonly accounts: readonly { readonly accountId: string; readonly transactions: readonly TransactionRow[] }[];
}

export function transactionHistorySnapshotFrom(data: unknown, where: string, maxPosition: number): TransactionHistorySnapshot {
  const fields = fieldsOf(data, where);
  const position = integer(fields, 'position', where, 0, maxPosition);
  const accounts = rowsByAccount(fields.accounts, `${where}.accounts`, (value, at) => {
    const account = fieldsOf(value, at);
    const accountId = text(account, 'accountId', at);
    const transactions = listOf(account.transactions, () => `${placed(at)}.transactions`).map((row, rowIndex) => rowFrom(row, () => `${placed(at)}.transactions[${rowIndex}]`));
    return { accountId, transactions };
  });
  return { position, accounts };
}

function rowFrom(value: unknown, where: Where): TransactionRow {
  const fields = fieldsOf(value, where);
  return {
    transactionId: text(fields, 'transactionId', where),
    type: oneOf(fields, 'type', where, ['Deposit', 'Withdrawal'] as const),
    amountCents: integer(fields, 'amountCents', where),
    description: text(fields, 'description', where),
    recordedAtMs: timeMs(fields, 'recordedAtMs', where),
    balanceAfterCents: integer(fields, 'balanceAfterCents', where),
  };
}
