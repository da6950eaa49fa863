// Read side: the CustomerPortfolio read model, for the question "what does this customer
// hold with us, and how has money moved?". It was added after the other two, with no change
// to the events or the write side: a new view is a new projection replayed from the log.

import { unreachable } from '../../domain/bank-account.ts';
import type { ProjectedEvent, ReadModel } from '../read-model.ts';
import { RowsByCustomer } from '../rows-by-customer.ts';
import type { CustomerPortfolioSnapshot } from './snapshot.ts';

export interface PortfolioAccount {
  readonly accountId: string;
  readonly accountType: string;
  readonly status: 'Open' | 'Closed';
  /** Of a closed account, the final balance its closing recorded. */
  readonly balanceCents: number;
}

export interface CustomerPortfolio {
  readonly customerId: string;
  /** In the order they were opened, closed ones included. */
  readonly accounts: readonly PortfolioAccount[];
  readonly accountCount: number;
  /** The balances of the open accounts: a closed account's money has left the bank. */
  readonly totalBalanceCents: number;
  /** Initial balances and deposits. */
  readonly moneyInCents: number;
  /** Withdrawals and the final balances paid out when accounts were closed. */
  readonly moneyOutCents: number;
  readonly withdrawnCents: number;
  /** AccountClosed records the balance, which the bank is assumed to pay out to the customer. */
  readonly paidOutAtClosingCents: number;
  /** ISO 8601: the latest commit time among the customer's events. */
  readonly lastActivity: string;
}

/**
 * One account as this read model keeps it, with the money it saw move. It keeps its own
 * rows rather than reading AccountSummary's: each read model is built, saved and replayed
 * apart, so either can be thrown away or added without the other.
 */
export interface PortfolioAccountRow extends PortfolioAccount {
  readonly customerId: string;
  readonly moneyInCents: number;
  readonly withdrawnCents: number;
  readonly paidOutAtClosingCents: number;
  readonly lastActivityMs: number;
}

export class CustomerPortfolioReadModel implements ReadModel {
  readonly name = 'CustomerPortfolio';
  position = 0;
  private readonly accounts = new RowsByCustomer<PortfolioAccountRow>();

  apply({ event, globalPosition, recordedAtMs }: ProjectedEvent): void {
    this.position = globalPosition;
    if (event.type === 'AccountOpened') {
      const { accountId, customerId, accountType, initialBalanceCents } = event.data;
      this.accounts.add({
        accountId,
        customerId,
        accountType,
        status: 'Open',
        balanceCents: initialBalanceCents,
        moneyInCents: initialBalanceCents,
        withdrawnCents: 0,
        paidOutAtClosingCents: 0,
        lastActivityMs: recordedAtMs,
      });
      return;
    }
    const row = this.accounts.get(event.data.accountId);
    if (row === undefined) return; // the write side never lets this happen; a read model does not second-guess it
    this.accounts.replace({ ...evolve(row, event), lastActivityMs: recordedAtMs });
  }

  /** None for a customer with no account in the log this read model has seen. */
  of(customerId: string): CustomerPortfolio | undefined {
    const rows = this.accounts.ofCustomer(customerId);
    return rows.length === 0 ? undefined : portfolio(customerId, rows);
  }

  /** Every customer's portfolio, in the order each customer's first account was opened. */
  all(): CustomerPortfolio[] {
    return this.accounts.customerIds().flatMap((customerId) => this.of(customerId) ?? []);
  }

  // ---- checkpoint: this read model as plain data and back (see ../checkpoint.ts) ----

  snapshot(): CustomerPortfolioSnapshot {
    return { position: this.position, accounts: this.accounts.all() };
  }

  /** Rows are never changed in place (each event replaces its row), so they can be shared. */
  static restore(snapshot: CustomerPortfolioSnapshot): CustomerPortfolioReadModel {
    const restored = new CustomerPortfolioReadModel();
    restored.position = snapshot.position;
    for (const row of snapshot.accounts) restored.accounts.add(row);
    return restored;
  }
}

function evolve(row: PortfolioAccountRow, event: Exclude<ProjectedEvent['event'], { type: 'AccountOpened' }>): PortfolioAccountRow {
  switch (event.type) {
    case 'MoneyDeposited':
      return { ...row, balanceCents: event.data.balanceAfterCents, moneyInCents: row.moneyInCents + event.data.amountCents };
    case 'MoneyWithdrawn':
      return { ...row, balanceCents: event.data.balanceAfterCents, withdrawnCents: row.withdrawnCents + event.data.amountCents };
    case 'AccountClosed':
      return { ...row, balanceCents: event.data.finalBalanceCents, status: 'Closed', paidOutAtClosingCents: event.data.finalBalanceCents };
    default:
      return unreachable(event);
  }
}

/** Sums over the customer's accounts, made when asked: a customer holds a handful of them. */
function portfolio(customerId: string, rows: readonly PortfolioAccountRow[]): CustomerPortfolio {
  const sum = (cents: (row: PortfolioAccountRow) => number): number => rows.reduce((total, row) => total + cents(row), 0);
  const withdrawnCents = sum((row) => row.withdrawnCents);
  const paidOutAtClosingCents = sum((row) => row.paidOutAtClosingCents);
  return {
    customerId,
    accounts: rows.map(({ accountId, accountType, status, balanceCents }) => ({ accountId, accountType, status, balanceCents })),
    accountCount: rows.length,
    totalBalanceCents: sum((row) => (row.status === 'Open' ? row.balanceCents : 0)),
    moneyInCents: sum((row) => row.moneyInCents),
    moneyOutCents: withdrawnCents + paidOutAtClosingCents,
    withdrawnCents,
    paidOutAtClosingCents,
    lastActivity: new Date(Math.max(...rows.map((row) => row.lastActivityMs))).toISOString(),
  };
}
