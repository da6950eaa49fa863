// Read side: one row per account, reached by account id and by customer, as AccountSummary
// and CustomerPortfolio each keep their own. Each read model owns its rows; this is only how
// they are held. Rows are replaced whole, never changed in place, so a snapshot may share them.

export class RowsByCustomer<Row extends { readonly accountId: string; readonly customerId: string }> {
  private readonly rows = new Map<string, Row>();
  private readonly accountIdsByCustomer = new Map<string, string[]>();

  /** A new account's row: it joins its customer's accounts, after those opened before it. */
  add(row: Row): void {
    this.rows.set(row.accountId, row);
    const held = this.accountIdsByCustomer.get(row.customerId);
    if (held === undefined) this.accountIdsByCustomer.set(row.customerId, [row.accountId]);
    else held.push(row.accountId);
  }

  /** The next row of an account already added. */
  replace(row: Row): void {
    this.rows.set(row.accountId, row);
  }

  get(accountId: string): Row | undefined {
    return this.rows.get(accountId);
  }

  /** In the order the customer's accounts were opened. */
  ofCustomer(customerId: string): Row[] {
    return (this.accountIdsByCustomer.get(customerId) ?? []).flatMap((id) => this.rows.get(id) ?? []);
  }

  /** In the order each customer's first account was opened. */
  customerIds(): string[] {
    return [...this.accountIdsByCustomer.keys()];
  }

  /** In the order the accounts were opened. */
  all(): Row[] {
    return [...this.rows.values()];
  }
}
