// The words for the domain's refusals: each says what was wrong, and none of them throws on
// the numbers a refused command may carry (NaN, fractions, past what a double counts).
import { describe, expect, it } from 'vitest';
import { describeRefusal } from '../../src/cli/exit-codes.ts';
import { MAX_AMOUNT_CENTS, MAX_BALANCE_CENTS } from '../../src/domain/money.ts';

describe('refusals of amounts no stored event could hold', () => {
  it('are bad input (exit 2) when the amount itself is unusable, and say so', () => {
    expect(describeRefusal({ code: 'AmountNotWholeCents', field: 'amountCents', amountCents: Number.NaN })).toEqual({
      code: 2,
      message: 'error: Amount must be a whole number of cents, got NaN cents',
    });
    expect(describeRefusal({ code: 'AmountNotWholeCents', field: 'initialBalanceCents', amountCents: 0.5 }).message).toBe(
      'error: Initial balance must be a whole number of cents, got 0.5 cents',
    );
    expect(describeRefusal({ code: 'AmountTooLarge', field: 'amountCents', amountCents: 2 ** 60, maxCents: MAX_AMOUNT_CENTS })).toEqual({
      code: 2,
      message: `error: Amount is over the most one command may carry, 1000000000.00: got ${2 ** 60} cents`,
    });
  });
  it('are a business refusal (exit 1) when the balance would pass its maximum', () => {
    const refusal = describeRefusal({ code: 'BalanceLimitExceeded', balanceCents: MAX_BALANCE_CENTS - 1, amountCents: 2, maxBalanceCents: MAX_BALANCE_CENTS });
    expect(refusal).toEqual({
      code: 1,
      message: 'refused: Balance limit: 9999999999999.99 and 0.02 would pass the most an account may hold, 10000000000000.00',
    });
  });
});
