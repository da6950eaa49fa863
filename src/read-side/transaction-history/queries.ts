// Read side: the TransactionHistory query handler, answering from the read model alone.

import type { Transaction, TransactionHistoryReadModel } from './transaction-history.ts';

export interface GetTransactionHistory {
  readonly accountId: string;
}

export function getTransactionHistory(readModel: TransactionHistoryReadModel, query: GetTransactionHistory): readonly Transaction[] {
  return readModel.of(query.accountId);
}
