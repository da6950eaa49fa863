// The CLI's read side: summary, history, accounts and portfolio, answered by the query
// handlers from the read models alone, live or as they stood at an earlier point of the log (--as-of).

import { unreachable } from '../domain/bank-account.ts';
import { formatCents } from '../domain/money.ts';
import type { AccountSummary } from '../read-side/account-summary/account-summary.ts';
import { getAccountsByCustomer, getAccountSummary } from '../read-side/account-summary/queries.ts';
import type { CustomerPortfolio } from '../read-side/customer-portfolio/customer-portfolio.ts';
import { getCustomerPortfolio } from '../read-side/customer-portfolio/queries.ts';
import { needReadModels } from '../read-side/read-models.ts';
import type { ReadModelKey } from '../read-side/read-models.ts';
import { getTransactionHistory } from '../read-side/transaction-history/queries.ts';
import type { PartialReadSide } from '../wire.ts';
import type { AsOf, Invocation } from './arguments.ts';
import { EXIT, NotFoundError } from './exit-codes.ts';
import type { ExitCode } from './exit-codes.ts';
import type { CliContext } from './cli-context.ts';
import { oneLine } from './terminal.ts';

type ReadInvocation = Extract<Invocation, { command: 'summary' | 'history' | 'accounts' | 'portfolio' }>;

export async function runReadCommand(context: CliContext, invocation: ReadInvocation, flags: { trace: boolean; json: boolean }): Promise<ExitCode> {
  const { out, tracer } = context;
  const asOf = invocation.command === 'accounts' ? undefined : invocation.asOf;
  if (flags.trace) tracer.begin(`${queryName(invocation)}${asOf === undefined ? '' : ` as of ${describeAsOf(asOf)}`}`);
  if (invocation.command === 'portfolio') return runPortfolio(context, invocation, asOf, flags);
  const readSide = await readSideAt(context, asOf, invocation.command === 'history' ? ['accountSummaries', 'transactionHistories'] : ['accountSummaries']);
  const { accountSummaries } = needReadModels(readSide, 'accountSummaries');
  const at = readSide.projector.position;
  const as = asOf === undefined ? `read model at position ${at}` : `as of ${describeAsOf(asOf)}: read model at position ${at}`;

  if (invocation.command === 'accounts') {
    const accounts = getAccountsByCustomer(accountSummaries, { customerId: invocation.customerId });
    tracer.end(`${queryName(invocation)} from AccountSummary → ${accounts.length} account(s)`);
    if (flags.json) out.json({ customerId: invocation.customerId, position: at, accounts: accounts.map(summaryJson) });
    else if (accounts.length === 0) out.line(`No accounts for customer ${invocation.customerId} ${out.style.dim(`(${as})`)}`);
    else {
      out.line(`Accounts of ${invocation.customerId} ${out.style.dim(`(${as})`)}`);
      for (const summary of accounts) {
        out.line(oneLine(`  ${summary.accountId}  ${summary.accountType.padEnd(9)} ${formatCents(summary.balanceCents).padStart(12)}  ${summary.status}`));
      }
    }
    return EXIT.done;
  }

  const summary = getAccountSummary(accountSummaries, { accountId: invocation.accountId });
  if (summary === undefined) {
    tracer.end(`${queryName(invocation)} → no such account`);
    const openedLater = asOf === undefined ? undefined : await openedAtNow(context, invocation.accountId);
    if (asOf !== undefined && openedLater !== undefined) {
      throw new NotFoundError(`account ${invocation.accountId} did not exist yet as of ${describeAsOf(asOf)}: it was opened later, at ${openedLater}; a later --as-of, or none, shows it`);
    }
    throw new NotFoundError(`unknown account ${invocation.accountId} (${as}); \`accounts --customer C\` lists a customer's accounts`);
  }
  if (invocation.command === 'summary') {
    tracer.end(`${queryName(invocation)} from AccountSummary → balance ${formatCents(summary.balanceCents)}, ${summary.status}`);
    if (flags.json) out.json({ ...summaryJson(summary), position: at });
    else {
      out.line(oneLine(`${out.style.bold(summary.accountId)}  ${summary.accountType}, customer ${summary.customerId} ${out.style.dim(`(${as})`)}`));
      out.line(`  balance        ${formatCents(summary.balanceCents)}`);
      out.line(`  status         ${summary.status}`);
      out.line(`  transactions   ${summary.transactionCount}`);
      out.line(`  opened         ${summary.openedAt}`);
      out.line(`  last activity  ${summary.lastActivity}`);
    }
    return EXIT.done;
  }

  const transactions = getTransactionHistory(needReadModels(readSide, 'transactionHistories').transactionHistories, { accountId: invocation.accountId });
  tracer.end(`${queryName(invocation)} from TransactionHistory → ${transactions.length} transaction(s)`);
  if (flags.json) {
    out.json({
      accountId: summary.accountId,
      position: at,
      transactions: transactions.map((t) => ({ ...t, ...dollars({ amount: t.amountCents, balanceAfter: t.balanceAfterCents }) })),
    });
    return EXIT.done;
  }
  out.line(oneLine(`History of ${out.style.bold(summary.accountId)} ${out.style.dim(`(${as})`)}`));
  if (transactions.length === 0) out.line('  no deposits or withdrawals');
  for (const t of transactions) {
    const signed = `${t.type === 'Deposit' ? '+' : '-'}${formatCents(t.amountCents)}`;
    out.line(oneLine(`  ${t.timestamp}  ${t.type.padEnd(10)} ${signed.padStart(12)}  balance ${formatCents(t.balanceAfterCents).padStart(12)}  ${t.description}`));
  }
  return EXIT.done;
}

/** GetCustomerPortfolio: an unknown customer is bad input (exit 2), as an unknown account is. */
async function runPortfolio(context: CliContext, invocation: Extract<ReadInvocation, { command: 'portfolio' }>, asOf: AsOf | undefined, flags: { json: boolean }): Promise<ExitCode> {
  const { out, tracer } = context;
  const { customerId } = invocation;
  const readSide = await readSideAt(context, asOf, ['customerPortfolios']);
  const at = readSide.projector.position;
  const as = asOf === undefined ? `read model at position ${at}` : `as of ${describeAsOf(asOf)}: read model at position ${at}`;
  const portfolio = getCustomerPortfolio(needReadModels(readSide, 'customerPortfolios').customerPortfolios, { customerId });
  if (portfolio === undefined) {
    tracer.end(`${queryName(invocation)} → no such customer`);
    if (asOf !== undefined && await customerKnownNow(context, customerId)) {
      throw new NotFoundError(`customer ${customerId} had no account yet as of ${describeAsOf(asOf)}: the first was opened later; a later --as-of, or none, shows it`);
    }
    throw new NotFoundError(`unknown customer ${customerId}: no account was ever opened for them (${as})`);
  }
  tracer.end(`${queryName(invocation)} from CustomerPortfolio → ${portfolio.accountCount} account(s), total balance ${formatCents(portfolio.totalBalanceCents)}`);
  if (flags.json) {
    out.json({ ...portfolioJson(portfolio), position: at });
    return EXIT.done;
  }
  const open = portfolio.accounts.filter((account) => account.status === 'Open').length;
  out.line(`Portfolio of ${out.style.bold(customerId)} ${out.style.dim(`(${as})`)}`);
  for (const account of portfolio.accounts) {
    out.line(oneLine(`  ${account.accountId}  ${account.accountType.padEnd(9)} ${formatCents(account.balanceCents).padStart(12)}  ${account.status}`));
  }
  out.line(`  accounts       ${portfolio.accountCount} (${open} open)`);
  out.line(`  total balance  ${formatCents(portfolio.totalBalanceCents)} ${out.style.dim('(of the open accounts)')}`);
  out.line(`  money in       ${formatCents(portfolio.moneyInCents)} ${out.style.dim('(initial balances and deposits)')}`);
  out.line(`  money out      ${formatCents(portfolio.moneyOutCents)} ${out.style.dim(`(withdrawals ${formatCents(portfolio.withdrawnCents)}, paid out at closing ${formatCents(portfolio.paidOutAtClosingCents)})`)}`);
  out.line(`  last activity  ${portfolio.lastActivity}`);
  return EXIT.done;
}

/** The live read models once caught up, or fresh ones, only those the query reads, replayed up to the --as-of point. */
async function readSideAt(context: CliContext, asOf: AsOf | undefined, readModels: readonly ReadModelKey[]): Promise<PartialReadSide> {
  const { bank, tracer } = context;
  if (asOf === undefined) {
    await bank.projector.caughtUp;
    bank.projector.throwIfFailed();
    tracer.caughtUp(bank.projector.position);
    tracer.readModelsStart(context.savedReadModels.describeStart(bank));
    return bank;
  }
  const until = 'position' in asOf
    ? (recorded: { globalPosition: number }) => recorded.globalPosition <= asOf.position
    : (recorded: { recordedAtMs: number }) => recorded.recordedAtMs <= asOf.timeMs;
  const replayed = await bank.rebuild({ until, readModels, signal: context.interrupted });
  tracer.replayed(`replayed the log from position 1 into fresh read models, up to position ${replayed.projector.position}`);
  return replayed;
}

/** Whether the live read models know a customer unknown at an --as-of point. */
async function customerKnownNow(context: CliContext, customerId: string): Promise<boolean> {
  await context.bank.projector.caughtUp;
  context.bank.projector.throwIfFailed();
  return getCustomerPortfolio(needReadModels(context.bank, 'customerPortfolios').customerPortfolios, { customerId }) !== undefined;
}

/** When an account unknown at an --as-of point was opened, if the live read models know it. */
async function openedAtNow(context: CliContext, accountId: string): Promise<string | undefined> {
  await context.bank.projector.caughtUp;
  context.bank.projector.throwIfFailed();
  return getAccountSummary(needReadModels(context.bank, 'accountSummaries').accountSummaries, { accountId })?.openedAt;
}

function queryName(invocation: ReadInvocation): string {
  switch (invocation.command) {
    case 'summary':
      return `GetAccountSummary(${invocation.accountId})`;
    case 'history':
      return `GetTransactionHistory(${invocation.accountId})`;
    case 'accounts':
      return `GetAccountsByCustomer(${invocation.customerId})`;
    case 'portfolio':
      return `GetCustomerPortfolio(${invocation.customerId})`;
    default:
      return unreachable(invocation);
  }
}

function describeAsOf(asOf: AsOf): string {
  return 'position' in asOf ? `position ${asOf.position}` : asOf.time;
}

function summaryJson(summary: AccountSummary): object {
  return { ...summary, ...dollars({ balance: summary.balanceCents }) };
}

function portfolioJson(portfolio: CustomerPortfolio): object {
  const { totalBalanceCents, moneyInCents, moneyOutCents, withdrawnCents, paidOutAtClosingCents } = portfolio;
  return {
    ...portfolio,
    accounts: portfolio.accounts.map((account) => ({ ...account, ...dollars({ balance: account.balanceCents }) })),
    ...dollars({ totalBalance: totalBalanceCents, moneyIn: moneyInCents, moneyOut: moneyOutCents, withdrawn: withdrawnCents, paidOutAtClosing: paidOutAtClosingCents }),
  };
}

/** For scripts: every amount as integer cents (already there) and as a dollar string. */
function dollars(amounts: Record<string, number>): Record<string, string> {
  return Object.fromEntries(Object.entries(amounts).map(([name, cents]) => [name, formatCents(cents)]));
}
