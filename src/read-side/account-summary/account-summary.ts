// Read side: the AccountSummary read model, one row per account, kept ready for the
// questions "how does this account stand?" and "which accounts does this customer hold?".

import { unreachable } from '../../domain/bank-account.ts';
import type { Projection, ProjectedEvent } from '../projection.ts';

export interface AccountSummary {
  readonly accountId: string;
  readonly customerId: string;
  readonly accountType: string;
  readonly balanceCents: number;
  readonly status: 'Open' | 'Closed';
  /** Deposits and withdrawals; opening and closing are not transactions. */
  readonly transactionCount: number;
  readonly openedAt: string;
  readonly lastActivity: string;
}

export class AccountSummaryProjection implements Projection {
  readonly name = 'AccountSummary';
  position = 0;
  private readonly accounts = new Map<string, AccountSummary>();
  private readonly accountIdsByCustomer = new Map<string, string[]>();

  apply({ event, globalPosition, recordedAt }: ProjectedEvent): void {
    this.position = globalPosition;
    if (event.type === 'AccountOpened') {
      const { accountId, customerId, accountType, initialBalanceCents } = event.data;
      this.accounts.set(accountId, {
        accountId,
        customerId,
        accountType,
        balanceCents: initialBalanceCents,
        status: 'Open',
        transactionCount: 0,
        openedAt: recordedAt,
        lastActivity: recordedAt,
      });
      const held = this.accountIdsByCustomer.get(customerId) ?? [];
      this.accountIdsByCustomer.set(customerId, [...held, accountId]);
      return;
    }
    const summary = this.accounts.get(event.data.accountId);
    if (summary === undefined) return; // the write side never lets this happen; a read model does not second-guess it
    this.accounts.set(summary.accountId, { ...evolve(summary, event), lastActivity: recordedAt });
  }

  get(accountId: string): AccountSummary | undefined {
    return this.accounts.get(accountId);
  }

  ofCustomer(customerId: string): AccountSummary[] {
    const ids = this.accountIdsByCustomer.get(customerId) ?? [];
    return ids.flatMap((id) => this.accounts.get(id) ?? []);
  }

  all(): AccountSummary[] {
    return [...this.accounts.values()];
  }
}

function evolve(summary: AccountSummary, event: Exclude<ProjectedEvent['event'], { type: 'AccountOpened' }>): AccountSummary {
  switch (event.type) {
    case 'MoneyDeposited':
    case 'MoneyWithdrawn':
      return { ...summary, balanceCents: event.data.balanceAfterCents, transactionCount: summary.transactionCount + 1 };
    case 'AccountClosed':
      return { ...summary, balanceCents: event.data.finalBalanceCents, status: 'Closed' };
    default:
      return unreachable(event);
  }
}
