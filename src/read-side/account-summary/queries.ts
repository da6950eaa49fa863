// Read side: the AccountSummary query handlers. They answer from the read model alone and
// never touch the event store, which is what makes queries cheap and the read side scalable.

import type { AccountSummary, AccountSummaryReadModel } from './account-summary.ts';

export interface GetAccountSummary {
  readonly accountId: string;
}

export interface GetAccountsByCustomer {
  readonly customerId: string;
}

export function getAccountSummary(readModel: AccountSummaryReadModel, query: GetAccountSummary): AccountSummary | undefined {
  return readModel.get(query.accountId);
}

export function getAccountsByCustomer(readModel: AccountSummaryReadModel, query: GetAccountsByCustomer): AccountSummary[] {
  return readModel.ofCustomer(query.customerId);
}
