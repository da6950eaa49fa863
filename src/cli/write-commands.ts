// The CLI's write side: open, deposit, withdraw, close. Each sends one command through the
// command handler, then waits for the read side to reflect it (reading its own write) and
// answers from the AccountSummary read model. Each names the id it was sent with, so that
// it can be sent again safely when its answer was lost (exit 3).

import { commandIdOf, unreachable } from '../domain/bank-account.ts';
import type { BankAccountCommand } from '../domain/bank-account.ts';
import { formatCents } from '../domain/money.ts';
import { getAccountSummary } from '../read-side/account-summary/queries.ts';
import { ProjectionTimeoutError, ProjectorStoppedError, ReadModelStoppedError } from '../read-side/projector.ts';
import { needReadModels } from '../read-side/read-models.ts';
import { CommandIdReusedError } from '../write-side/command-handler.ts';
import type { Invocation } from './arguments.ts';
import { StoreUnavailableError } from '../event-store/errors.ts';
import { describeRefusal, EXIT } from './exit-codes.ts';
import type { ExitCode } from './exit-codes.ts';
import type { CliContext } from './cli-context.ts';
import { describeCommand, describeEvent } from './trace.ts';
import { oneLine } from './terminal.ts';

type WriteInvocation = Extract<Invocation, { command: 'open' | 'deposit' | 'withdraw' | 'close' }>;

export async function runWriteCommand(context: CliContext, invocation: WriteInvocation, trace: boolean): Promise<ExitCode> {
  const { bank, tracer, out } = context;
  const command = toCommand(context, invocation);
  if (trace) tracer.begin(describeCommand(command));

  let outcome;
  try {
    outcome = await bank.handle(command);
  } catch (error) {
    // Perhaps recorded, perhaps not: the same command under the same id is safe to send again.
    if (error instanceof StoreUnavailableError) throw new StoreUnavailableError(`${error.message}\n${howToRetry(command)}`, { cause: error });
    if (!(error instanceof CommandIdReusedError)) throw error;
    tracer.end('none: the id was used before, by another command');
    out.problem(`error: ${describeReuse(command, error)}`);
    return EXIT.usage;
  }
  if (outcome.status === 'rejected') {
    tracer.end('none: the command was refused');
    const refusal = describeRefusal(outcome.rejection);
    out.problem(refusal.message);
    return refusal.code;
  }

  const { accountId } = command.data;
  const recorded = (): void => {
    const where = out.style.dim(`(stream version ${outcome.lastVersion}, log position ${outcome.lastGlobalPosition})`);
    const before = outcome.status === 'already-recorded' ? 'already recorded, sent before: ' : '';
    for (const event of outcome.events) out.line(oneLine(`${out.style.green('✓')} ${before}${describeEvent(event)} ${where}`));
    if (outcome.status === 'already-recorded') out.line('nothing appended this time');
    out.line(`${ID_NAMES[command.type]}: ${commandIdOf(command)}`);
  };
  let accountSummaries;
  try {
    await bank.projector.waitFor(outcome.lastGlobalPosition);
    ({ accountSummaries } = needReadModels(bank, 'accountSummaries'));
  } catch (error) {
    // The events are stored whatever befalls the read side: say so, exit 0, so that
    // nobody sends the command again and deposits twice.
    if (!(error instanceof ProjectionTimeoutError || error instanceof ProjectorStoppedError || error instanceof ReadModelStoppedError)) throw error;
    recorded();
    out.problem(oneLine(`warning: recorded, but the read models cannot show it yet: ${error.message}`));
    return EXIT.done;
  }
  tracer.projectionsReached(outcome.lastGlobalPosition);
  tracer.readModelsStart(context.savedReadModels.describeStart(bank));
  const summary = getAccountSummary(accountSummaries, { accountId });
  const answer = summary === undefined ? 'no summary' : `balance ${formatCents(summary.balanceCents)}, ${summary.status}`;
  tracer.end(`GetAccountSummary(${accountId}) from AccountSummary at position ${accountSummaries.position} → ${answer}`);

  recorded();
  if (summary !== undefined) out.line(`${accountId}: balance ${formatCents(summary.balanceCents)} · ${summary.status}`);
  return EXIT.done;
}

/** Ids that the domain will not make up for itself are made here, at the edge. */
function toCommand(context: CliContext, invocation: WriteInvocation): BankAccountCommand {
  switch (invocation.command) {
    case 'open': {
      const { customerId, accountType, initialBalanceCents } = invocation;
      return { type: 'OpenAccount', data: { accountId: invocation.accountId ?? context.newId(), customerId, accountType, initialBalanceCents } };
    }
    case 'deposit':
    case 'withdraw': {
      const { accountId, amountCents, description, transactionId = context.newId() } = invocation;
      const data = { accountId, amountCents, description, transactionId };
      return invocation.command === 'deposit' ? { type: 'DepositMoney', data } : { type: 'WithdrawMoney', data };
    }
    case 'close':
      return { type: 'CloseAccount', data: { accountId: invocation.accountId, closeId: invocation.closeId ?? context.newId(), reason: invocation.reason } };
    default:
      return unreachable(invocation);
  }
}

/** What each command's own id is called where a person gives it, and the option that gives it. */
const ID_NAMES: { readonly [Type in BankAccountCommand['type']]: string } = {
  OpenAccount: 'Account id',
  DepositMoney: 'Transaction id',
  WithdrawMoney: 'Transaction id',
  CloseAccount: 'Close id',
};
const ID_OPTIONS: { readonly [Type in BankAccountCommand['type']]: string } = {
  OpenAccount: '--id',
  DepositMoney: '--transaction-id',
  WithdrawMoney: '--transaction-id',
  CloseAccount: '--close-id',
};

function howToRetry(command: BankAccountCommand): string {
  return `It is safe to send the same command again with ${ID_OPTIONS[command.type]} ${commandIdOf(command)}: it is recorded once, and a copy already recorded is answered "already recorded".`;
}

function describeReuse(command: BankAccountCommand, error: CommandIdReusedError): string {
  const id = `${ID_NAMES[command.type].toLowerCase()} ${error.commandId}`;
  const earlier = error.recorded === undefined
    ? 'by a command on another account'
    : `by ${error.recorded.eventType} at version ${error.recorded.version} of ${error.recorded.stream.aggregateId}, with other details`;
  const advice = command.type === 'OpenAccount' ? 'choose another account id' : 'a retry must repeat the command exactly; a new command needs a new id';
  return `${id} was used before ${earlier}: ${advice}`;
}
