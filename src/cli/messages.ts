// The edge where the domain's typed refusals become words for a person. Exit codes and
// gRPC status codes are decided at their own edges; the wording lives only here.

import { unreachable } from '../domain/bank-account.ts';
import type { AmountField, BankAccountRejection } from '../domain/bank-account.ts';
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
      return `Initial balance cannot be negative: ${dollars(rejection.initialBalanceCents)}`;
    case 'NonPositiveAmount':
      return `Amount must be more than 0.00, got ${dollars(rejection.amountCents)}`;
    case 'InsufficientFunds':
      return `Insufficient funds: balance ${dollars(rejection.balanceCents)}, asked ${dollars(rejection.requestedCents)}`;
    case 'AmountNotWholeCents':
      return `${amountName(rejection.field)} must be a whole number of cents, got ${rejection.amountCents} cents`;
    case 'AmountTooLarge':
      return `${amountName(rejection.field)} is over the most one command may carry, ${dollars(rejection.maxCents)}: got ${dollars(rejection.amountCents)}`;
    case 'BalanceLimitExceeded':
      return `Balance limit: ${dollars(rejection.balanceCents)} and ${dollars(rejection.amountCents)} would pass the most an account may hold, ${dollars(rejection.maxBalanceCents)}`;
    default:
      return unreachable(rejection);
  }
}

function amountName(field: AmountField): string {
  return field === 'initialBalanceCents' ? 'Initial balance' : 'Amount';
}

/** Any number a command carried, even one no stored event could hold: a message never throws. */
function dollars(cents: number): string {
  return Number.isSafeInteger(cents) ? formatCents(cents) : `${cents} cents`;
}
