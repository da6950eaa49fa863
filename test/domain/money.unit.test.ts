// Money at the edges: what people may type, and how cents are shown back to them.
import { describe, expect, it } from 'vitest';
import { formatCents, InvalidAmountError, MAX_AMOUNT_CENTS, parseAmount } from '../../src/domain/money.ts';

describe('parseAmount', () => {
  it.each([
    ['12.34', 1234],
    ['12.3', 1230],
    ['12', 1200],
    ['0.01', 1],
    ['0', 0],
    ['007.50', 750],
    ['1000000000.00', MAX_AMOUNT_CENTS],
  ])('reads %s as %i cents', (input, cents) => {
    expect(parseAmount(input)).toBe(cents);
  });

  it.each(['12.345', '-1', '+1', '1e3', 'abc', '', ' ', '12.', '.5', '1,000.00', ' 12.34', '12.34 ', '$5', 'NaN', 'Infinity', '0x10', '1000000000.01', '99999999999999999999'])(
    'refuses %j',
    (input) => {
      expect(() => parseAmount(input)).toThrow(InvalidAmountError);
    },
  );

  it('says what is wrong', () => {
    expect(() => parseAmount('12.345')).toThrow('"12.345" is not a valid amount: use at most two decimals');
    expect(() => parseAmount('')).toThrow('it is empty');
    expect(() => parseAmount('2000000000')).toThrow('the most is 1000000000.00');
  });
});

describe('formatCents', () => {
  it.each([
    [1234, '12.34'],
    [5, '0.05'],
    [0, '0.00'],
    [130000, '1300.00'],
    [-5, '-0.05'],
    [-123456, '-1234.56'],
  ])('shows %i cents as %s', (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });

  it('round-trips with parseAmount', () => {
    for (const cents of [0, 1, 99, 100, 101, 123456789, MAX_AMOUNT_CENTS]) expect(parseAmount(formatCents(cents))).toBe(cents);
  });

  it('refuses fractions of a cent', () => {
    expect(() => formatCents(1.5)).toThrow(RangeError);
  });
});
