// The BankAccount aggregate's business rules, as given / when / then specifications.
import { describe, expect, it } from 'vitest';
import { bankAccount, isRecordedBy } from '../../src/domain/bank-account.ts';
import { MAX_AMOUNT_CENTS, MAX_BALANCE_CENTS } from '../../src/domain/money.ts';
import type { BankAccountCommand, BankAccountEvent } from '../../src/domain/bank-account.ts';
import { decode, encode } from '../../src/domain/bank-account-codec.ts';
import type { RecordedEvent } from '../../src/event-store/event-store.ts';
import { specFor } from '../support/given-when-then.ts';

const { given } = specFor(bankAccount);

describe('OpenAccount', () => {
  it('opens a new account with its initial balance', () => {
    given().when(open(1000_00)).then(opened(1000_00));
  });
  it('opens with a zero initial balance', () => {
    given().when(open(0)).then(opened(0));
  });
  it('refuses an account that already exists', () => {
    given(opened(10_00)).when(open(5_00)).thenRefused({ code: 'AccountAlreadyExists', accountId: ACCOUNT });
  });
  it('refuses an account that was opened and closed', () => {
    given(opened(0), closed(0)).when(open(5_00)).thenRefused({ code: 'AccountAlreadyExists', accountId: ACCOUNT });
  });
  it('refuses a negative initial balance', () => {
    given().when(open(-1)).thenRefused({ code: 'NegativeInitialBalance', initialBalanceCents: -1 });
  });
  it('refuses an empty customer id or account type', () => {
    given().when(open(0, { customerId: ' ' })).thenRefused({ code: 'MissingField', field: 'customerId' });
    given().when(open(0, { accountType: '' })).thenRefused({ code: 'MissingField', field: 'accountType' });
  });
});

describe('OpenAccount: only amounts the stored events can hold', () => {
  it('refuses an initial balance that is not a whole number of cents: a fraction, NaN, Infinity', () => {
    for (const initialBalanceCents of [0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      given().when(open(initialBalanceCents)).thenRefused({ code: 'AmountNotWholeCents', field: 'initialBalanceCents', amountCents: initialBalanceCents });
    }
  });
  it('refuses an initial balance over the most one command may carry', () => {
    given().when(open(MAX_AMOUNT_CENTS)).then(opened(MAX_AMOUNT_CENTS));
    given().when(open(MAX_AMOUNT_CENTS + 1)).thenRefused({ code: 'AmountTooLarge', field: 'initialBalanceCents', amountCents: MAX_AMOUNT_CENTS + 1, maxCents: MAX_AMOUNT_CENTS });
    given().when(open(2 ** 60)).thenRefused({ code: 'AmountTooLarge', field: 'initialBalanceCents', amountCents: 2 ** 60, maxCents: MAX_AMOUNT_CENTS });
  });
});

describe('DepositMoney', () => {
  it('adds the amount and records the balance after it', () => {
    given(opened(1000_00)).when(deposit(500_00)).then(deposited(500_00, 1500_00));
  });
  it('refuses an account that does not exist', () => {
    given().when(deposit(1_00)).thenRefused({ code: 'AccountNotFound', accountId: ACCOUNT });
  });
  it('refuses a closed account', () => {
    given(opened(0), closed(0)).when(deposit(1_00)).thenRefused({ code: 'AccountClosed', accountId: ACCOUNT });
  });
  it('refuses a zero or negative amount', () => {
    given(opened(0)).when(deposit(0)).thenRefused({ code: 'NonPositiveAmount', amountCents: 0 });
    given(opened(0)).when(deposit(-5)).thenRefused({ code: 'NonPositiveAmount', amountCents: -5 });
  });
});

describe('DepositMoney: only amounts the stored events can hold', () => {
  it('refuses an amount that is not a whole number of cents: a fraction, NaN, Infinity', () => {
    for (const amountCents of [0.5, 100.25, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      given(opened(0)).when(deposit(amountCents)).thenRefused({ code: 'AmountNotWholeCents', field: 'amountCents', amountCents });
    }
  });
  it('refuses an amount over the most one command may carry', () => {
    given(opened(0)).when(deposit(MAX_AMOUNT_CENTS)).then(deposited(MAX_AMOUNT_CENTS, MAX_AMOUNT_CENTS));
    given(opened(0)).when(deposit(MAX_AMOUNT_CENTS + 1)).thenRefused({ code: 'AmountTooLarge', field: 'amountCents', amountCents: MAX_AMOUNT_CENTS + 1, maxCents: MAX_AMOUNT_CENTS });
  });
  it('refuses a deposit that would take the balance past the most an account may hold', () => {
    const nearlyFull = MAX_BALANCE_CENTS - 10_00;
    given(opened(0), deposited(nearlyFull, nearlyFull)).when(deposit(10_00)).then(deposited(10_00, MAX_BALANCE_CENTS));
    given(opened(0), deposited(nearlyFull, nearlyFull))
      .when(deposit(10_01))
      .thenRefused({ code: 'BalanceLimitExceeded', balanceCents: nearlyFull, amountCents: 10_01, maxBalanceCents: MAX_BALANCE_CENTS });
  });
  it('decides, at the largest amounts and balance allowed, only events the decoder reads back', () => {
    const nearlyFull = MAX_BALANCE_CENTS - MAX_AMOUNT_CENTS;
    const decision = bankAccount.decide(deposit(MAX_AMOUNT_CENTS), bankAccount.evolve(bankAccount.initialState, opened(nearlyFull)));
    if (!decision.accepted) throw new Error(`refused: ${decision.rejection.code}`);
    for (const event of decision.events) expect(decode(storedAsRecorded(event))).toEqual(event);
  });
});

describe('WithdrawMoney', () => {
  it('takes the amount and records the balance after it', () => {
    given(opened(1000_00), deposited(500_00, 1500_00)).when(withdraw(200_00)).then(withdrawn(200_00, 1300_00));
  });
  it('may take the whole balance', () => {
    given(opened(10_00)).when(withdraw(10_00)).then(withdrawn(10_00, 0));
  });
  it('refuses more than the balance: insufficient funds', () => {
    given(opened(12_00)).when(withdraw(50_00)).thenRefused({ code: 'InsufficientFunds', balanceCents: 12_00, requestedCents: 50_00 });
  });
  it('counts earlier withdrawals against the balance', () => {
    given(opened(100_00), withdrawn(90_00, 10_00))
      .when(withdraw(10_01))
      .thenRefused({ code: 'InsufficientFunds', balanceCents: 10_00, requestedCents: 10_01 });
  });
  it('refuses an account that does not exist', () => {
    given().when(withdraw(1_00)).thenRefused({ code: 'AccountNotFound', accountId: ACCOUNT });
  });
  it('refuses a closed account', () => {
    given(opened(5_00), closed(5_00)).when(withdraw(1_00)).thenRefused({ code: 'AccountClosed', accountId: ACCOUNT });
  });
  it('refuses a zero or negative amount', () => {
    given(opened(5_00)).when(withdraw(0)).thenRefused({ code: 'NonPositiveAmount', amountCents: 0 });
    given(opened(5_00)).when(withdraw(-1)).thenRefused({ code: 'NonPositiveAmount', amountCents: -1 });
  });
});

describe('WithdrawMoney: only amounts the stored events can hold', () => {
  it('refuses an amount that is not a whole number of cents', () => {
    given(opened(5_00)).when(withdraw(0.5)).thenRefused({ code: 'AmountNotWholeCents', field: 'amountCents', amountCents: 0.5 });
    given(opened(5_00)).when(withdraw(Number.NaN)).thenRefused({ code: 'AmountNotWholeCents', field: 'amountCents', amountCents: Number.NaN });
  });
  it('refuses an amount over the most one command may carry, before looking at the balance', () => {
    given(opened(5_00)).when(withdraw(MAX_AMOUNT_CENTS + 1)).thenRefused({ code: 'AmountTooLarge', field: 'amountCents', amountCents: MAX_AMOUNT_CENTS + 1, maxCents: MAX_AMOUNT_CENTS });
  });
});

describe('CloseAccount', () => {
  it('closes an open account and records its final balance', () => {
    given(opened(1000_00), deposited(500_00, 1500_00)).when(close()).then(closed(1500_00));
  });
  it('refuses an account that does not exist', () => {
    given().when(close()).thenRefused({ code: 'AccountNotFound', accountId: ACCOUNT });
  });
  it('refuses an account already closed', () => {
    given(opened(0), closed(0)).when(close()).thenRefused({ code: 'AccountClosed', accountId: ACCOUNT });
  });
});

describe('isRecordedBy: a command sent again, or another under its id', () => {
  it('knows a resend by the events it recorded the first time, whatever the balance since', () => {
    expect(isRecordedBy(open(5_00), [opened(5_00)])).toBe(true);
    expect(isRecordedBy(deposit(5_00), [deposited(5_00, 1_000_00)])).toBe(true);
    expect(isRecordedBy(withdraw(5_00), [withdrawn(5_00, 0)])).toBe(true);
    expect(isRecordedBy(close(), [closed(7_00)])).toBe(true);
  });
  it('tells another command under the same id: another amount, kind, account or wording', () => {
    expect(isRecordedBy(open(6_00), [opened(5_00)])).toBe(false);
    expect(isRecordedBy(deposit(6_00), [deposited(5_00, 5_00)])).toBe(false);
    expect(isRecordedBy(withdraw(5_00), [deposited(5_00, 5_00)])).toBe(false);
    const elsewhere: BankAccountCommand = { type: 'DepositMoney', data: { accountId: 'acc-2', transactionId: TX, amountCents: 5_00, description: 'Salary' } };
    expect(isRecordedBy(elsewhere, [deposited(5_00, 5_00)])).toBe(false);
    expect(isRecordedBy(deposit(5_00), [])).toBe(false);
  });
});

// ---- fixtures -------------------------------------------------------------------------

const ACCOUNT = 'acc-1';
const CUSTOMER = 'cust-1';
const TX = 'tx-1';

function open(initialBalanceCents: number, fields: { customerId?: string; accountType?: string } = {}): BankAccountCommand {
  const data = { accountId: ACCOUNT, customerId: CUSTOMER, accountType: 'Checking', initialBalanceCents, ...fields };
  return { type: 'OpenAccount', data };
}
function deposit(amountCents: number): BankAccountCommand {
  return { type: 'DepositMoney', data: { accountId: ACCOUNT, transactionId: TX, amountCents, description: 'Salary' } };
}
function withdraw(amountCents: number): BankAccountCommand {
  return { type: 'WithdrawMoney', data: { accountId: ACCOUNT, transactionId: TX, amountCents, description: 'ATM' } };
}
function close(): BankAccountCommand {
  return { type: 'CloseAccount', data: { accountId: ACCOUNT, closeId: 'close-1', reason: 'Customer request' } };
}
function opened(initialBalanceCents: number): BankAccountEvent {
  return { type: 'AccountOpened', data: { accountId: ACCOUNT, customerId: CUSTOMER, accountType: 'Checking', initialBalanceCents } };
}
function deposited(amountCents: number, balanceAfterCents: number): BankAccountEvent {
  const data = { accountId: ACCOUNT, transactionId: TX, amountCents, description: 'Salary', balanceAfterCents };
  return { type: 'MoneyDeposited', data };
}
function withdrawn(amountCents: number, balanceAfterCents: number): BankAccountEvent {
  const data = { accountId: ACCOUNT, transactionId: TX, amountCents, description: 'ATM', balanceAfterCents };
  return { type: 'MoneyWithdrawn', data };
}
function closed(finalBalanceCents: number): BankAccountEvent {
  return { type: 'AccountClosed', data: { accountId: ACCOUNT, reason: 'Customer request', finalBalanceCents } };
}
function storedAsRecorded(event: BankAccountEvent): RecordedEvent {
  const stream = { aggregateType: 'BankAccount', aggregateId: ACCOUNT };
  return { ...encode(event), eventId: 'e-1', tenantId: 't', stream, version: 2, globalPosition: 2, recordedAtMs: 0 };
}
