// The guided tour `pnpm start` gives: commands on the write side, events flowing to the read
// models, queries on the read side, a refused command, a closed account, and a read model
// built only afterwards from the events already in the log. Every number it prints comes
// from a real command or query against the store it was given.

import { unreachable } from '../domain/bank-account.ts';
import type { BankAccountCommand } from '../domain/bank-account.ts';
import type { EventStore } from '../event-store/event-store.ts';
import { formatCents } from '../domain/money.ts';
import { getAccountsByCustomer, getAccountSummary } from '../read-side/account-summary/queries.ts';
import type { AccountSummary } from '../read-side/account-summary/account-summary.ts';
import type { CustomerPortfolio } from '../read-side/customer-portfolio/customer-portfolio.ts';
import { getCustomerPortfolio } from '../read-side/customer-portfolio/queries.ts';
import { listed, needReadModels, READ_MODEL_KEYS, READ_MODEL_NAMES } from '../read-side/read-models.ts';
import type { ReadModelKey, ReadModels } from '../read-side/read-models.ts';
import { getTransactionHistory } from '../read-side/transaction-history/queries.ts';
import { sameReadModels } from '../wire.ts';
import type { Bank, BankCommandStep, PartialReadSide } from '../wire.ts';
import { describeRejection } from './messages.ts';
import { describeEvent } from './trace.ts';

/**
 * The read models the walkthrough's projector follows while its commands run. CustomerPortfolio
 * is left out on purpose: step 7 builds it from the log afterwards, as a view added later is.
 */
export const FOLLOWED_LIVE = ['accountSummaries', 'transactionHistories'] as const satisfies readonly ReadModelKey[];

export interface WalkthroughOptions {
  readonly bank: Bank<PartialReadSide & Pick<ReadModels, (typeof FOLLOWED_LIVE)[number]>>;
  /** The store itself, to show one event as it is kept there. */
  readonly store: EventStore;
  readonly tenantId: string;
  readonly storeDescription: string;
  readonly newId: () => string;
  readonly print: (line?: string) => void;
}

export async function runWalkthrough({ bank, store, tenantId, storeDescription, newId, print }: WalkthroughOptions): Promise<void> {
  const customerId = `customer-${newId().slice(-12)}`;
  const checking = newId();
  const savings = newId();
  const lastPositions: number[] = [];

  const send = async (label: string, command: BankAccountCommand): Promise<void> => {
    const outcome = await bank.handle(command);
    if (outcome.status === 'rejected') throw new Error(`the walkthrough's command was refused: ${describeRejection(outcome.rejection)}`);
    lastPositions.push(outcome.lastGlobalPosition);
    const events = outcome.events.map((event) => event.type).join(', ');
    print(`  ${label.padEnd(52)} → ${events} (stream version ${outcome.lastVersion}, log position ${outcome.lastGlobalPosition})`);
  };
  const money = (amountCents: number, description: string, accountId: string) =>
    ({ accountId, amountCents, description, transactionId: newId() });

  print('CQRS with event sourcing: a small bank');
  print(`Event store: ${storeDescription}`);
  print(`Customer ${customerId}, checking account ${checking}, savings account ${savings}`);

  print();
  print('Step 1 · Write side: commands become events');
  print('  Each command is checked by the BankAccount aggregate, rebuilt from its own events;');
  print("  if the rules hold, the new events are appended to the account's stream.");
  await send('OpenAccount    checking, Checking, initial 1000.00', {
    type: 'OpenAccount',
    data: { accountId: checking, customerId, accountType: 'Checking', initialBalanceCents: 100_000 },
  });
  await send('OpenAccount    savings, Savings, initial 5000.00', {
    type: 'OpenAccount',
    data: { accountId: savings, customerId, accountType: 'Savings', initialBalanceCents: 500_000 },
  });
  await send('DepositMoney   checking, 500.00 "Salary deposit"', { type: 'DepositMoney', data: money(50_000, 'Salary deposit', checking) });
  await send('WithdrawMoney  checking, 200.00 "ATM withdrawal"', { type: 'WithdrawMoney', data: money(20_000, 'ATM withdrawal', checking) });
  // Held back for step 2, which queries before the read side has seen this deposit.
  const release = bank.projector.hold();
  await send('DepositMoney   savings, 1000.00 "Bonus deposit"', { type: 'DepositMoney', data: money(100_000, 'Bonus deposit', savings) });

  const [salary] = (await store.readStream({ tenantId, aggregateId: checking, fromVersion: 2, maxCount: 1, direction: 'forward' })).events;
  if (salary !== undefined) {
    print('  One of them as the store keeps it, the salary deposit: where it sits, what it is, its payload.');
    print(`    log position ${salary.globalPosition} · stream ${salary.stream.aggregateType}/${salary.stream.aggregateId} · version ${salary.version}`);
    print(`    ${salary.eventType} (schema version ${salary.eventVersion}, ${salary.contentType}) · recorded ${new Date(salary.recordedAtMs).toISOString()}`);
    print(`    ${Buffer.from(salary.payload).toString('utf8')}`);
  }

  print();
  print('Step 2 · From events to read models');
  print('  The projector follows the event log on its own and updates the read models, so the');
  print('  read side is eventually consistent. Asked before it has seen the last deposit');
  print('  (we held the projector back for a moment, as a busy one would be), a query answers');
  print('  from what it has seen so far:');
  const lastPosition = Math.max(...lastPositions);
  const before = getAccountSummary(bank.accountSummaries, { accountId: savings });
  print(`    GetAccountSummary(savings): balance ${before === undefined ? '(none yet)' : formatCents(before.balanceCents)}, read models at position ${bank.projector.position}, the log at ${lastPosition}`);
  print('  Reading your own write means waiting for the position the append returned:');
  release();
  await bank.projector.waitFor(lastPosition);
  const after = getAccountSummary(bank.accountSummaries, { accountId: savings });
  print(`    GetAccountSummary(savings): balance ${after === undefined ? '(none)' : formatCents(after.balanceCents)}, read models at position ${bank.projector.position}`);
  print(`  Read models caught up to log position ${bank.projector.position}:`);
  print(`  AccountSummary at ${bank.accountSummaries.position}, TransactionHistory at ${bank.transactionHistories.position}; this run added ${lastPositions.length} events.`);

  print();
  print('Step 3 · Read side: queries answered from the read models alone');
  print(`  GetAccountSummary(checking)`);
  printSummary(print, getAccountSummary(bank.accountSummaries, { accountId: checking }));
  print(`  GetTransactionHistory(checking)`);
  for (const row of getTransactionHistory(bank.transactionHistories, { accountId: checking })) {
    const signed = `${row.type === 'Deposit' ? '+' : '-'}${formatCents(row.amountCents)}`;
    print(`    ${signed.padStart(10)}  ${row.description.padEnd(16)} balance after ${formatCents(row.balanceAfterCents)}`);
  }
  print(`  GetAccountsByCustomer(${customerId})`);
  for (const summary of getAccountsByCustomer(bank.accountSummaries, { customerId })) printSummary(print, summary);

  print();
  print('Step 4 · A business rule says no');
  // A second write side, as another process would have, with a state cache of its own: it
  // meets the account here and races this program's own write side for it in step 5.
  const tellerSteps: BankCommandStep[] = [];
  const secondTeller = bank.anotherWriter((step) => tellerSteps.push(step));
  const overdraft = await secondTeller({ type: 'WithdrawMoney', data: money(500_000, 'Overdraft attempt', checking) });
  print('  WithdrawMoney  checking, 5000.00 "Overdraft attempt"');
  if (overdraft.status !== 'rejected') throw new Error(`the overdraft was ${overdraft.status}: the rules are broken`);
  print(`  → refused: ${describeRejection(overdraft.rejection)}`);
  print(`  Nothing was appended (the stream stays at version ${overdraft.version}), so the read models are unchanged:`);
  printSummary(print, getAccountSummary(bank.accountSummaries, { accountId: checking }));

  print();
  print('Step 5 · Two writers, one account: optimistic concurrency');
  print('  Two write sides, say two tellers, each remember the checking account at version 3,');
  print('  balance 1300.00. Teller 1 withdraws 1000.00; then teller 2 withdraws 500.00.');
  tellerSteps.length = 0;
  await send('teller 1: WithdrawMoney checking, 1000.00 "Rent"', { type: 'WithdrawMoney', data: money(100_000, 'Rent', checking) });
  const raced = await secondTeller({ type: 'WithdrawMoney', data: money(50_000, 'Car repair', checking) });
  print('  teller 2: WithdrawMoney checking, 500.00 "Car repair"');
  for (const line of describeRace(tellerSteps)) print(`    ${line}`);
  if (raced.status === 'accepted') throw new Error('both withdrawals were accepted: the expected version did not hold');
  print('  The store took only the append made against the stream\'s real version: without that check');
  print('  both withdrawals would be stored, 1500.00 taken from 1300.00.');

  print();
  print('Step 6 · Closing an account');
  lastPositions.length = 0;
  await send('CloseAccount   savings, "Customer request"', { type: 'CloseAccount', data: { accountId: savings, closeId: newId(), reason: 'Customer request' } });
  await bank.projector.waitFor(lastPositions[0]!);
  print('  GetAccountSummary(savings)');
  const closed = getAccountSummary(bank.accountSummaries, { accountId: savings });
  printSummary(print, closed);
  if (closed !== undefined) {
    print(`  AccountClosed records the final balance, ${formatCents(closed.balanceCents)}: the bank is assumed to pay it out`);
    print('  to the customer, outside this example; the closed account keeps the figure as history.');
  }

  print();
  print('Step 7 · A view added later: the customer\'s portfolio');
  // Said from what this run wired, not assumed: the claim holds only if the projector never fed it.
  const wired: PartialReadSide = bank;
  const fed = READ_MODEL_KEYS.filter((key) => wired[key] !== undefined).map((key) => READ_MODEL_NAMES[key]);
  print('  CustomerPortfolio did not exist when these events were written: this run\'s projector has');
  print(`  fed only ${listed(fed)}. A new read model starts empty and is built`);
  print('  by replaying the events already in the log, from position 1. No event changed for it, and');
  print('  no file of the write side or the domain.');
  let replayedEvents = 0;
  const late = needReadModels(await bank.rebuild({ readModels: ['customerPortfolios'], onApplied: () => void replayedEvents++ }), 'customerPortfolios');
  print(`  Replayed ${replayedEvents} events into CustomerPortfolio, up to log position ${late.projector.position}.`);
  print(`  GetCustomerPortfolio(${customerId})`);
  printPortfolio(print, getCustomerPortfolio(late.customerPortfolios, { customerId }));

  print();
  print('Step 8 · What this showed');
  const rebuilt = await bank.rebuild();
  const same = sameReadModels(rebuilt, bank, FOLLOWED_LIVE) && sameReadModels(rebuilt, late, ['customerPortfolios']);
  print(`  (Just now, fresh read models were rebuilt from the whole log, up to position ${rebuilt.projector.position}:`);
  print(`   ${same ? 'they equal the live ones and the portfolio of step 7' : 'they DIFFER from the live ones'}.)`);
  print('  1. Commands go to the write side, where the aggregate enforces the rules and emits events.');
  print('  2. Events are the only record: appended with an expected version, never changed.');
  print('  3. A projector turns the event log into read models shaped for each question.');
  print('  4. Queries read those models alone; they trail the writes by a moment (eventual consistency).');
  print('  5. A refused command writes nothing, so nothing downstream changes.');
  print('  6. Two writers cannot both spend the same money: the loser of the race decides again.');
  print('  7. Read models can be thrown away and rebuilt from the log at any time.');
  print('  8. A view nobody planned for is one more read model, replayed from the same events.');
}

function printPortfolio(print: (line: string) => void, portfolio: CustomerPortfolio | undefined): void {
  if (portfolio === undefined) {
    print('    (no such customer in the read model)');
    return;
  }
  for (const account of portfolio.accounts) {
    print(`    ${account.accountType.padEnd(9)} balance ${formatCents(account.balanceCents).padStart(9)} · ${account.status}`);
  }
  const open = portfolio.accounts.filter((account) => account.status === 'Open').length;
  print(`    ${portfolio.accountCount} accounts, ${open} open · total balance ${formatCents(portfolio.totalBalanceCents)} (open accounts only)`);
  print(`    money in  ${formatCents(portfolio.moneyInCents).padStart(9)}  initial balances and deposits`);
  print(`    money out ${formatCents(portfolio.moneyOutCents).padStart(9)}  withdrawals ${formatCents(portfolio.withdrawnCents)}, paid out at closing ${formatCents(portfolio.paidOutAtClosingCents)}`);
  print(`    in less out: ${formatCents(portfolio.moneyInCents - portfolio.moneyOutCents)}, the total balance, since closing counts as money out`);
}

function printSummary(print: (line: string) => void, summary: AccountSummary | undefined): void {
  if (summary === undefined) {
    print('    (no such account in the read model)');
    return;
  }
  const count = `${summary.transactionCount} transaction${summary.transactionCount === 1 ? '' : 's'}`;
  print(`    ${summary.accountType.padEnd(9)} balance ${formatCents(summary.balanceCents).padStart(9)} · ${count} · ${summary.status}`);
}

/** Teller 2's path through the race, from the steps its command handler reported. */
function describeRace(steps: readonly BankCommandStep[]): string[] {
  return steps.flatMap((step): string[] => {
    switch (step.step) {
      case 'cached':
        return [`decides on the state it remembers, at version ${step.version}`];
      case 'decided':
        return [`→ ${step.events.map(describeEvent).join('; ')}`];
      case 'conflict':
        return [`append refused: expected version ${step.expectedVersion}, the stream is at ${step.actualVersion} (teller 1 got there first)`];
      case 'read':
        return [`reads the ${step.eventsRead} event${step.eventsRead === 1 ? '' : 's'} after version ${step.afterVersion} and decides again`];
      case 'refused':
        return [`→ refused: ${describeRejection(step.rejection)}`];
      case 'appended':
        return [`→ appended at version ${step.lastVersion}`];
      case 'already-recorded':
        return [`→ sent before: already recorded at version ${step.lastVersion}`];
      default:
        return unreachable(step);
    }
  });
}
