// Read side: the AccountSummary read model, one row per account, kept ready for the
// questions "how does this account stand?" and "which accounts does this customer hold?".

import { unreachable } from '../../domain/bank-account.ts';
import type { ProjectedEvent, ReadModel } from '../read-model.ts';
import { RowsByCustomer } from '../rows-by-customer.ts';
import type { AccountSummarySnapshot } from './snapshot.ts';

export interface AccountSummary {
  readonly accountId: string;
  readonly customerId: string;
  readonly accountType: string;
  readonly balanceCents: number;
  readonly status: 'Open' | 'Closed';
  /** Deposits and withdrawals; opening and closing are not transactions. */
  readonly transactionCount: number;
  /** ISO 8601. */
  readonly openedAt: string;
  readonly lastActivity: string;
}

/**
 * A summary as the read model keeps it: times as the store's milliseconds, turned into
 * ISO 8601 only when a query asks, so following the log formats no dates.
 */
export interface AccountSummaryRow extends Omit<AccountSummary, 'openedAt' | 'lastActivity'> {
  readonly openedAtMs: number;
  readonly lastActivityMs: number;
}

export class AccountSummaryReadModel implements ReadModel {
  readonly name = 'AccountSummary';
  position = 0;
  private readonly accounts = new RowsByCustomer<AccountSummaryRow>();

  apply({ event, globalPosition, recordedAtMs }: ProjectedEvent): void {
    this.position = globalPosition;
    if (event.type === 'AccountOpened') {
      const { accountId, customerId, accountType, initialBalanceCents } = event.data;
      this.accounts.add({
        accountId,
        customerId,
        accountType,
        balanceCents: initialBalanceCents,
        status: 'Open',
        transactionCount: 0,
        openedAtMs: recordedAtMs,
        lastActivityMs: recordedAtMs,
      });
      return;
    }
    const row = this.accounts.get(event.data.accountId);
    if (row === undefined) return; // the write side never lets this happen; a read model does not second-guess it
    this.accounts.replace({ ...evolve(row, event), lastActivityMs: recordedAtMs });
  }

  get(accountId: string): AccountSummary | undefined {
    const row = this.accounts.get(accountId);
    return row === undefined ? undefined : present(row);
  }

  ofCustomer(customerId: string): AccountSummary[] {
    return this.accounts.ofCustomer(customerId).map(present);
  }

  all(): AccountSummary[] {
    return this.accounts.all().map(present);
  }

  // ---- checkpoint: this read model as plain data and back (see ../checkpoint.ts) ----

  snapshot(): AccountSummarySnapshot {
    return { position: this.position, accounts: this.accounts.all() };
  }

  /** Rows are never changed in place (each event replaces its row), so they can be shared. */
  static restore(snapshot: AccountSummarySnapshot): AccountSummaryReadModel {
    const restored = new AccountSummaryReadModel();
    restored.position = snapshot.position;
    for (const row of snapshot.accounts) restored.accounts.add(row);
    return restored;
  }
}

function evolve(row: AccountSummaryRow, event: Exclude<ProjectedEvent['event'], { type: 'AccountOpened' }>): AccountSummaryRow {
  switch (event.type) {
    case 'MoneyDeposited':
    case 'MoneyWithdrawn':
      return { ...row, balanceCents: event.data.balanceAfterCents, transactionCount: row.transactionCount + 1 };
    case 'AccountClosed':
      return { ...row, balanceCents: event.data.finalBalanceCents, status: 'Closed' };
    default:
      return unreachable(event);
  }
}

function present(row: AccountSummaryRow): AccountSummary {
  const { accountId, customerId, accountType, balanceCents, status, transactionCount } = row;
  return {
    accountId,
    customerId,
    accountType,
    balanceCents,
    status,
    transactionCount,
    openedAt: new Date(row.openedAtMs).toISOString(),
    lastActivity: new Date(row.lastActivityMs).toISOString(),
  };
}
