// Read side: the TransactionHistory read model, one row per deposit or withdrawal with the
// balance after it, for the question "what happened on this account, and in what order?".

import type { ProjectedEvent, ReadModel } from '../read-model.ts';
import type { TransactionHistorySnapshot } from './snapshot.ts';

export interface Transaction {
  readonly transactionId: string;
  readonly type: 'Deposit' | 'Withdrawal';
  readonly amountCents: number;
  readonly description: string;
  /** ISO 8601: the store's commit time. */
  readonly timestamp: string;
  /** Taken from the event, which recorded it: this read model keeps no balance of its own. */
  readonly balanceAfterCents: number;
}

/** A transaction as the read model keeps it: the time as the store's milliseconds, formatted when asked. */
export interface TransactionRow extends Omit<Transaction, 'timestamp'> {
  readonly recordedAtMs: number;
}

export class TransactionHistoryReadModel implements ReadModel {
  readonly name = 'TransactionHistory';
  position = 0;
  private readonly transactionsByAccount = new Map<string, TransactionRow[]>();

  apply({ event, globalPosition, recordedAtMs }: ProjectedEvent): void {
    this.position = globalPosition;
    if (event.type !== 'MoneyDeposited' && event.type !== 'MoneyWithdrawn') return;
    const { accountId, transactionId, amountCents, description, balanceAfterCents } = event.data;
    const type = event.type === 'MoneyDeposited' ? 'Deposit' : 'Withdrawal';
    const rows = this.transactionsByAccount.get(accountId) ?? [];
    rows.push({ transactionId, type, amountCents, description, recordedAtMs, balanceAfterCents });
    this.transactionsByAccount.set(accountId, rows);
  }

  of(accountId: string): readonly Transaction[] {
    return (this.transactionsByAccount.get(accountId) ?? []).map(present);
  }

  /** The newest transaction of an account, without formatting the rest. */
  latest(accountId: string): Transaction | undefined {
    const row = this.transactionsByAccount.get(accountId)?.at(-1);
    return row === undefined ? undefined : present(row);
  }

  accountIds(): string[] {
    return [...this.transactionsByAccount.keys()];
  }

  // ---- checkpoint: this read model as plain data and back (see ../checkpoint.ts) ----

  snapshot(): TransactionHistorySnapshot {
    const accounts = [...this.transactionsByAccount].map(([accountId, rows]) => ({ accountId, transactions: [...rows] }));
    return { position: this.position, accounts };
  }

  /** Rows are never changed once written, so they can be shared; the lists grow, so they are copied. */
  static restore(snapshot: TransactionHistorySnapshot): TransactionHistoryReadModel {
    const restored = new TransactionHistoryReadModel();
    restored.position = snapshot.position;
    for (const { accountId, transactions } of snapshot.accounts) restored.transactionsByAccount.set(accountId, [...transactions]);
    return restored;
  }
}

function present(row: TransactionRow): Transaction {
  const { transactionId, type, amountCents, description, balanceAfterCents } = row;
  return { transactionId, type, amountCents, description, timestamp: new Date(row.recordedAtMs).toISOString(), balanceAfterCents };
}
