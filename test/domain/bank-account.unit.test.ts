// The BankAccount aggregate's business rules, as given / when / then specifications.
import { describe, it } from 'vitest';
import { bankAccount } from '../../src/domain/bank-account.ts';
import type { BankAccountCommand, BankAccountEvent } from '../../src/domain/bank-account.ts';
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
  return { type: 'CloseAccount', data: { accountId: ACCOUNT, reason: 'Customer request' } };
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
