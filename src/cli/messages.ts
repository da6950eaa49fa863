// The edge where the domain's typed refusals become words for a person. Exit codes and
// gRPC status codes are decided at their own edges; the wording lives only here.

import { unreachable } from '../domain/bank-account.ts';
import type { BankAccountRejection } from '../domain/bank-account.ts';
import { formatCents } from '../domain/money.ts';

export function describeRejection(rejection: BankAccountRejection): string {
  switch (rejection.code) {
    case 'AccountAlreadyExists':
      return `Account already exists: ${rejection.accountId}`;
    case 'AccountNotFound':
      return `unknown account ${rejection.accountId}: open it first, or check the id`;
    case 'AccountClosed':
      return `Account is closed: ${rejection.accountId}`;
    case 'MissingField':
      return `Missing ${rejection.field === 'customerId' ? 'customer id' : 'account type'}`;
    case 'NegativeInitialBalance':
      return `Initial balance cannot be negative: ${formatCents(rejection.initialBalanceCents)}`;
    case 'NonPositiveAmount':
      return `Amount must be more than 0.00, got ${formatCents(rejection.amountCents)}`;
    case 'InsufficientFunds':
      return `Insufficient funds: balance ${formatCents(rejection.balanceCents)}, asked ${formatCents(rejection.requestedCents)}`;
    default:
      return unreachable(rejection);
  }
}
