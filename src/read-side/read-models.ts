// Read side: the read models the bank keeps, by the key the code reaches each one with. A
// run may follow only some of them (the CLI loads only those its command asks), so a caller
// asks for the ones it needs with needReadModels and gets them typed as present.

import type { AccountSummaryReadModel } from './account-summary/account-summary.ts';
import type { CustomerPortfolioReadModel } from './customer-portfolio/customer-portfolio.ts';
import { Projector } from './projector.ts';
import type { TransactionHistoryReadModel } from './transaction-history/transaction-history.ts';

export interface ReadModels {
  readonly accountSummaries: AccountSummaryReadModel;
  readonly transactionHistories: TransactionHistoryReadModel;
  readonly customerPortfolios: CustomerPortfolioReadModel;
}

export type ReadModelKey = keyof ReadModels;

/** Each read model's name, as its projection, the trace and its saved file call it. */
export const READ_MODEL_NAMES: { readonly [K in ReadModelKey]: string } = {
  accountSummaries: 'AccountSummary',
  transactionHistories: 'TransactionHistory',
  customerPortfolios: 'CustomerPortfolio',
};

export const READ_MODEL_KEYS: readonly ReadModelKey[] = ['accountSummaries', 'transactionHistories', 'customerPortfolios'];

/** A read model asked for that this run did not wire: a slip in the choice of read models, not bad input. */
export class ReadModelNotWiredError extends Error {}

/**
 * The read side with the read models named typed as present, for a query to answer from:
 * throws if this run left one out, or if one of them stopped on an event it failed on.
 */
export function needReadModels<Side extends Partial<ReadModels>, K extends ReadModelKey>(readSide: Side, ...keys: K[]): Side & Pick<ReadModels, K> {
  if (hasReadModels(readSide, keys)) {
    if ('projector' in readSide && readSide.projector instanceof Projector) readSide.projector.throwIfStopped(...keys.map((key) => readSide[key]));
    return readSide;
  }
  const missing = keys.filter((key) => readSide[key] === undefined).map((key) => READ_MODEL_NAMES[key]);
  const are = missing.length === 1 ? 'is' : 'are';
  throw new ReadModelNotWiredError(`${listed(missing)} ${are} not wired in this run, which follows only the read models chosen for it`);
}

function hasReadModels<Side extends Partial<ReadModels>, K extends ReadModelKey>(readSide: Side, keys: readonly K[]): readSide is Side & Pick<ReadModels, K> {
  return keys.every((key) => readSide[key] !== undefined);
}

/** Names as a sentence lists them: "A", "A and B", "A, B and C". */
export function listed(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
