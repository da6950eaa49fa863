// The BankAccount aggregate: the write side's model of one account. It holds the business
// rules and nothing else: pure functions from past events and a command to new events or a
// refusal. No I/O, no clock, no id generator: what varies comes in with the command.

import { accept, reject } from './decider.ts';
import type { Decider, Decision } from './decider.ts';
import { MAX_AMOUNT_CENTS, MAX_BALANCE_CENTS } from './money.ts';

// ---- events: what has happened, in the past tense, never changed once stored ----------

export type BankAccountEvent =
  | { readonly type: 'AccountOpened'; readonly data: AccountOpening }
  | { readonly type: 'MoneyDeposited'; readonly data: MoneyMovement }
  | { readonly type: 'MoneyWithdrawn'; readonly data: MoneyMovement }
  | {
      readonly type: 'AccountClosed';
      readonly data: { readonly accountId: string; readonly reason: string; readonly finalBalanceCents: number };
    };

/** Asked for by OpenAccount and recorded as such by AccountOpened. */
export interface AccountOpening {
  readonly accountId: string;
  readonly customerId: string;
  readonly accountType: string;
  readonly initialBalanceCents: number;
}

/**
 * A deposit or withdrawal. The balance after it is part of the fact: it is what the
 * customer was told at the time, and it spares every read model from re-tracking balances.
 */
export interface MoneyMovement {
  readonly accountId: string;
  readonly transactionId: string;
  readonly amountCents: number;
  readonly description: string;
  readonly balanceAfterCents: number;
}

// ---- state: only what the rules need, as a union so an unopened account has no balance --

export type BankAccountState =
  | { readonly status: 'Unopened' }
  | { readonly status: 'Open'; readonly balanceCents: number }
  | { readonly status: 'Closed'; readonly balanceCents: number };

export const initialState: BankAccountState = { status: 'Unopened' };

// ---- evolve: replaying the history -----------------------------------------------------

export function evolve(state: BankAccountState, event: BankAccountEvent): BankAccountState {
  switch (event.type) {
    case 'AccountOpened':
      return { status: 'Open', balanceCents: event.data.initialBalanceCents };
    case 'MoneyDeposited':
    case 'MoneyWithdrawn':
      return { status: 'Open', balanceCents: event.data.balanceAfterCents };
    case 'AccountClosed':
      return { status: 'Closed', balanceCents: event.data.finalBalanceCents };
    default:
      return unreachable(event);
  }
}

// ---- commands: what someone asks for, which may be refused -----------------------------

export type BankAccountCommand =
  | { readonly type: 'OpenAccount'; readonly data: AccountOpening }
  | { readonly type: 'DepositMoney'; readonly data: MoneyRequest }
  | { readonly type: 'WithdrawMoney'; readonly data: MoneyRequest }
  | { readonly type: 'CloseAccount'; readonly data: AccountClosing };

/** The transaction id is chosen by whoever sends the command, so the domain needs no id source. */
export interface MoneyRequest {
  readonly accountId: string;
  readonly transactionId: string;
  readonly amountCents: number;
  readonly description: string;
}

/** The close id, like a transaction id, is the sender's: it makes sending the close again safe. */
export interface AccountClosing {
  readonly accountId: string;
  readonly closeId: string;
  readonly reason: string;
}

/**
 * Each command's own id, chosen by whoever sends it: sending the command again with the
 * same id is the same command, which the write side records once.
 */
export function commandIdOf(command: BankAccountCommand): string {
  switch (command.type) {
    case 'OpenAccount':
      return command.data.accountId;
    case 'DepositMoney':
    case 'WithdrawMoney':
      return command.data.transactionId;
    case 'CloseAccount':
      return command.data.closeId;
    default:
      return unreachable(command);
  }
}

/**
 * Whether these events, found in the stream under the command's id, are what this very
 * command recorded when first sent: then sending it again is a retry, answered "already
 * recorded". Anything else under its id is another command reusing it.
 */
export function isRecordedBy(command: BankAccountCommand, events: readonly BankAccountEvent[]): boolean {
  const [event] = events;
  if (event === undefined || events.length !== 1) return false;
  switch (command.type) {
    case 'OpenAccount':
      return event.type === 'AccountOpened' && sameFields(command.data, event.data, ['accountId', 'customerId', 'accountType', 'initialBalanceCents']);
    case 'DepositMoney':
    case 'WithdrawMoney':
      return event.type === (command.type === 'DepositMoney' ? 'MoneyDeposited' : 'MoneyWithdrawn')
        && sameFields(command.data, event.data, ['accountId', 'transactionId', 'amountCents', 'description']);
    case 'CloseAccount':
      // The close id is in the event's id, not its data: the rest must match.
      return event.type === 'AccountClosed' && sameFields(command.data, event.data, ['accountId', 'reason']);
    default:
      return unreachable(command);
  }
}

function sameFields<Name extends string>(one: Readonly<Record<Name, unknown>>, other: Readonly<Record<Name, unknown>>, names: readonly Name[]): boolean {
  return names.every((name) => Object.is(one[name], other[name]));
}

/** Why a command was refused: a stable code, and the facts a message needs. */
export type BankAccountRejection =
  | { readonly code: 'AccountAlreadyExists'; readonly accountId: string }
  | { readonly code: 'AccountNotFound'; readonly accountId: string }
  | { readonly code: 'AccountClosed'; readonly accountId: string }
  | { readonly code: 'MissingField'; readonly field: 'customerId' | 'accountType' }
  | { readonly code: 'NegativeInitialBalance'; readonly initialBalanceCents: number }
  | { readonly code: 'NonPositiveAmount'; readonly amountCents: number }
  | { readonly code: 'InsufficientFunds'; readonly balanceCents: number; readonly requestedCents: number }
  // What would be stored but never read back (a fraction of a cent, NaN, a balance past
  // what a double counts exactly) is refused here, so no command can poison its stream.
  | { readonly code: 'AmountNotWholeCents'; readonly field: AmountField; readonly amountCents: number }
  | { readonly code: 'AmountTooLarge'; readonly field: AmountField; readonly amountCents: number; readonly maxCents: number }
  | { readonly code: 'BalanceLimitExceeded'; readonly balanceCents: number; readonly amountCents: number; readonly maxBalanceCents: number };

/** Which amount of a command a refusal is about. */
export type AmountField = 'initialBalanceCents' | 'amountCents';

type BankAccountDecision = Decision<BankAccountEvent, BankAccountRejection>;

// ---- decide: the business rules -----------------------------------------------------------

export function decide(command: BankAccountCommand, state: BankAccountState): BankAccountDecision {
  switch (command.type) {
    case 'OpenAccount':
      return openAccount(command.data, state);
    case 'DepositMoney':
      return moveMoney(command.data, state, 'MoneyDeposited');
    case 'WithdrawMoney':
      return moveMoney(command.data, state, 'MoneyWithdrawn');
    case 'CloseAccount':
      return closeAccount(command.data, state);
    default:
      return unreachable(command);
  }
}

function openAccount(
  data: AccountOpening,
  state: BankAccountState,
): BankAccountDecision {
  if (state.status !== 'Unopened') return reject({ code: 'AccountAlreadyExists', accountId: data.accountId });
  if (data.customerId.trim() === '') return reject({ code: 'MissingField', field: 'customerId' });
  if (data.accountType.trim() === '') return reject({ code: 'MissingField', field: 'accountType' });
  const unusable = notWholeCents('initialBalanceCents', data.initialBalanceCents);
  if (unusable !== undefined) return reject(unusable);
  if (data.initialBalanceCents < 0) {
    return reject({ code: 'NegativeInitialBalance', initialBalanceCents: data.initialBalanceCents });
  }
  const tooLarge = overMaximum('initialBalanceCents', data.initialBalanceCents);
  if (tooLarge !== undefined) return reject(tooLarge);
  const { accountId, customerId, accountType, initialBalanceCents } = data;
  return accept({ type: 'AccountOpened', data: { accountId, customerId, accountType, initialBalanceCents } });
}

function moveMoney(
  request: MoneyRequest,
  state: BankAccountState,
  type: 'MoneyDeposited' | 'MoneyWithdrawn',
): BankAccountDecision {
  if (state.status === 'Unopened') return reject({ code: 'AccountNotFound', accountId: request.accountId });
  if (state.status === 'Closed') return reject({ code: 'AccountClosed', accountId: request.accountId });
  const unusable = notWholeCents('amountCents', request.amountCents);
  if (unusable !== undefined) return reject(unusable);
  if (request.amountCents <= 0) return reject({ code: 'NonPositiveAmount', amountCents: request.amountCents });
  const tooLarge = overMaximum('amountCents', request.amountCents);
  if (tooLarge !== undefined) return reject(tooLarge);
  if (type === 'MoneyWithdrawn' && request.amountCents > state.balanceCents) {
    return reject({ code: 'InsufficientFunds', balanceCents: state.balanceCents, requestedCents: request.amountCents });
  }
  const change = type === 'MoneyDeposited' ? request.amountCents : -request.amountCents;
  const { accountId, transactionId, amountCents, description } = request;
  const balanceAfterCents = state.balanceCents + change;
  if (balanceAfterCents > MAX_BALANCE_CENTS) {
    return reject({ code: 'BalanceLimitExceeded', balanceCents: state.balanceCents, amountCents, maxBalanceCents: MAX_BALANCE_CENTS });
  }
  return accept({ type, data: { accountId, transactionId, amountCents, description, balanceAfterCents } });
}

function closeAccount(
  data: AccountClosing,
  state: BankAccountState,
): BankAccountDecision {
  if (state.status === 'Unopened') return reject({ code: 'AccountNotFound', accountId: data.accountId });
  if (state.status === 'Closed') return reject({ code: 'AccountClosed', accountId: data.accountId });
  const { accountId, reason } = data;
  return accept({ type: 'AccountClosed', data: { accountId, reason, finalBalanceCents: state.balanceCents } });
}

/** NaN, Infinity and fractions of a cent: amounts the stored events could not hold. */
function notWholeCents(field: AmountField, amountCents: number): BankAccountRejection | undefined {
  return Number.isInteger(amountCents) ? undefined : { code: 'AmountNotWholeCents', field, amountCents };
}

function overMaximum(field: AmountField, amountCents: number): BankAccountRejection | undefined {
  return amountCents > MAX_AMOUNT_CENTS ? { code: 'AmountTooLarge', field, amountCents, maxCents: MAX_AMOUNT_CENTS } : undefined;
}

/** The aggregate as the generic command handler sees it. */
export const bankAccount: Decider<BankAccountCommand, BankAccountEvent, BankAccountState, BankAccountRejection> = {
  initialState,
  evolve,
  decide,
};

export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
