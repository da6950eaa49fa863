// Read side: the CustomerPortfolio query handler, answering from the read model alone.

import type { CustomerPortfolio, CustomerPortfolioReadModel } from './customer-portfolio.ts';

export interface GetCustomerPortfolio {
  readonly customerId: string;
}

/** None for a customer the read model has seen no account of. */
export function getCustomerPortfolio(readModel: CustomerPortfolioReadModel, query: GetCustomerPortfolio): CustomerPortfolio | undefined {
  return readModel.of(query.customerId);
}
