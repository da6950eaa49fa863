// Read side: the TransactionHistory read model, one row per deposit or withdrawal with the
// balance after it, for the question "what happened on this account, and in what order?".

import type { Projection, ProjectedEvent } from '../projection.ts';

export interface Transaction {
  readonly transactionId: string;
  readonly type: 'Deposit' | 'Withdrawal';
  readonly amountCents: number;
  readonly description: string;
  readonly timestamp: string;
  /** Taken from the event, which recorded it: this read model keeps no balance of its own. */
  readonly balanceAfterCents: number;
}

export class TransactionHistoryProjection implements Projection {
  readonly name = 'TransactionHistory';
  position = 0;
  private readonly transactionsByAccount = new Map<string, Transaction[]>();

  apply({ event, globalPosition, recordedAt }: ProjectedEvent): void {
    this.position = globalPosition;
    if (event.type !== 'MoneyDeposited' && event.type !== 'MoneyWithdrawn') return;
    const { accountId, transactionId, amountCents, description, balanceAfterCents } = event.data;
    const type = event.type === 'MoneyDeposited' ? 'Deposit' : 'Withdrawal';
    const rows = this.transactionsByAccount.get(accountId) ?? [];
    rows.push({ transactionId, type, amountCents, description, timestamp: recordedAt, balanceAfterCents });
    this.transactionsByAccount.set(accountId, rows);
  }

  of(accountId: string): readonly Transaction[] {
    return this.transactionsByAccount.get(accountId) ?? [];
  }

  accountIds(): string[] {
    return [...this.transactionsByAccount.keys()];
  }
}
